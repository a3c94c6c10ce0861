"""What alerts look like: alert and digest emails per tier and the SMS, with policy text defanged."""

from __future__ import annotations

import copy
import email
import re
from dataclasses import replace
from datetime import UTC, datetime
from email import policy

import pytest

from policywatch.analysis.changes import build_record
from policywatch.core.errors import InternalError
from policywatch.core.links import Links
from policywatch.messages.render import (
    SUBJECT_MAX_CHARS,
    alert_email,
    alert_sms,
    defang,
    digest_email,
    policy_text,
)
from policywatch.messages.sms import MAX_SEGMENTS, is_gsm, segments
from policywatch.notify.channels.email import build_message
from policywatch.storage.archive import VersionRef
from policywatch.subscribers.tiers import tier
from tests.helpers.messages import LINKS, UNSUBSCRIBE

EVIL = '<a href="https://evil.example">x</a><script>alert(1)</script>'
SHA_PREVIOUS = "eeff9899decb54d4b353fcfe0a6aeaeac201d7339f3450bd0af2bf271332a057"
SHA_CURRENT = "cc122258616d4e0538ebc9a2de63fc39efda78acc315a18dd9b448ab162860f5"
STAMP = "2025-08-29T003202.000Z"
CHANGE_URL = f"https://policywatch.example/changes/anthropic/privacy-policy/{STAMP}"


def _other_platform(change: dict, platform: str, name: str, stamp: str) -> dict:
    other = copy.deepcopy(change)
    other.update(platform=platform, platform_name=name, detected_at=stamp.replace("T00", "T10"))
    other["evidence"]["current"]["key"] = f"versions/{platform}/privacy-policy/{stamp}.md"
    other.pop("record_key")  # a change record, as the digest reads them, names no record key
    return other


# --- alert email, per tier -------------------------------------------------------------------


def test_subject_names_severity_platform_document_and_summary(change):
    subject = alert_email(change, tier("watcher"), LINKS).subject
    assert subject.startswith("[policywatch] HIGH Anthropic (Claude) changed its Privacy Policy: Now permits training")
    assert len(subject) <= SUBJECT_MAX_CHARS and subject.endswith("\u2026")


def test_every_tier_sees_what_changed(change):
    for plan in ("watcher", "professional"):
        mail = alert_email(change, tier(plan), LINKS).for_recipient(UNSUBSCRIBE)
        for body in (mail.text, mail.html):
            assert "Anthropic (Claude) changed its Privacy Policy" in body
            assert "29 Aug 2025, 00:32 UTC" in body and "28 September 2025" in body
            assert "Now permits training models on user content" in body
            assert "Model training on user content" in body and "Minors and age limits" in body
            assert CHANGE_URL in body


def test_watcher_gets_no_regulations_and_no_evidence(change):
    mail = alert_email(change, tier("watcher"), LINKS).for_recipient(UNSUBSCRIBE)
    for body in (mail.text, mail.html):
        assert "GDPR" not in body and "Art. 6(1)(f)" not in body and "exposure" not in body
        assert SHA_PREVIOUS not in body and SHA_CURRENT not in body
        assert "/versions/" not in body and "Evidence" not in body


def test_professional_gets_regulations_under_each_provision_and_the_evidence(change):
    mail = alert_email(change, tier("professional"), LINKS).for_recipient(UNSUBSCRIBE)
    for body in (mail.text, mail.html):
        assert "GDPR" in body and "Art. 6(1)(f)" in body and "Art. 21(4)" in body and "COPPA" in body
        assert SHA_PREVIOUS in body and SHA_CURRENT in body
        assert "https://www.anthropic.com/legal/privacy" in body
        for key in (change["evidence"]["previous"]["key"], change["evidence"]["current"]["key"]):
            assert LINKS.evidence(key) in body
    # each provision's regulations follow its own quotes, before the next provision
    text = mail.text
    assert text.index("Model training on user content") < text.index("Art. 53(1)(d)")
    assert text.index("Art. 53(1)(d)") < text.index("Training opt-out and its exceptions")


def test_quotes_show_as_red_and_green_word_runs(change):
    mail = alert_email(change, tier("watcher"), LINKS).for_recipient(None)
    assert re.search(
        r"We <del style=\"[^\"]*\">will not</del> <ins style=\"[^\"]*\">may</ins> use your Inputs", mail.html
    )
    assert "We [-will not-] {+may+} use your Inputs" in mail.text
    # a passage that only adds a sentence, and one the event left out (its quote diffed word by word)
    assert re.search(r"Added:</span> <ins[^>]*>Materials flagged for safety", mail.html)
    assert "[-about,-] {+from+} children" in mail.text


def test_a_passage_quoted_by_several_provisions_is_shown_once(change):
    text = alert_email(change, tier("watcher"), LINKS).text
    assert text.count("We [-will not-] {+may+}") == 1
    assert 'same passage as under "Model training on user content" above' in text


def test_quotes_without_matching_passages_fall_back_to_before_and_after(change):
    change["blocks"] = []
    change["provisions"] = change["provisions"][:1]
    change["provisions"][0]["quotes"] = [{"heading": "Privacy Policy > 2. Uses", "before": "Old words.", "after": ""}]
    mail = alert_email(change, tier("watcher"), LINKS).for_recipient(None)
    assert "Removed: Old words." in mail.text and re.search(r"Removed:</span> <del[^>]*>Old words.</del>", mail.html)


def test_without_links_the_alert_prints_none(change):
    mail = alert_email(change, tier("professional"), Links("")).for_recipient(None)
    for body in (mail.text, mail.html):
        assert "policywatch.example" not in body and "See the change" not in body
        assert change["evidence"]["current"]["key"] in body  # the archive key stands in for the link
        assert "reply to this one and ask to unsubscribe" in body


def test_a_change_without_effective_date_or_provisions_renders(change):
    for field in ("effective_date", "blocks_truncated", "record_key", "provisions", "blocks"):
        change.pop(field)
    mail = alert_email(change, tier("professional"), LINKS).for_recipient(None)
    assert "Takes effect:" not in mail.text and "takes effect <strong" not in mail.html
    assert CHANGE_URL in mail.text  # derived from the new version's key, like a record's


# --- unsubscribe link per recipient ----------------------------------------------------------


def test_for_recipient_fills_the_unsubscribe_link_and_leaves_no_marker(change):
    rendered = alert_email(change, tier("professional"), LINKS)
    assert rendered.marker in rendered.text and rendered.marker in rendered.html
    first = rendered.for_recipient(UNSUBSCRIBE)
    second = rendered.for_recipient(LINKS.unsubscribe("sub-2", "tok-2"))
    for mail in (first, second):
        assert rendered.marker not in mail.text and rendered.marker not in mail.html
        assert "policywatch-unsubscribe-" not in mail.text + mail.html
    assert f"Unsubscribe with one click: {UNSUBSCRIBE}" in first.text
    assert 'href="https://policywatch.example/unsubscribe?s=sub-1&amp;t=tok-1"' in first.html
    assert "s=sub-2&amp;t=tok-2" in second.html and "sub-1" not in second.html
    assert first.for_recipient("https://other.example/") is first  # already filled


def test_for_recipient_without_a_link_says_how_to_unsubscribe(change):
    mail = alert_email(change, tier("watcher"), LINKS).for_recipient(None)
    assert "unsubscribe?" not in mail.text + mail.html
    assert "reply to this one and ask to unsubscribe" in mail.text and "ask to unsubscribe" in mail.html


def test_the_unsubscribe_link_is_escaped_in_html(change):
    mail = alert_email(change, tier("watcher"), LINKS).for_recipient('https://x.example/u?a=1&b="><script>')
    assert "<script>" not in mail.html and "&#34;&gt;&lt;script&gt;" in mail.html


# --- the change id: a header, and a line of the text ----------------------------------------


def test_an_alert_names_its_change_in_a_header_and_in_its_text(change):
    mail = alert_email(change, tier("watcher"), LINKS).for_recipient(UNSUBSCRIBE)
    raw = build_message("a@policywatch.example", "b@example.com", mail, UNSUBSCRIBE)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["X-Policywatch-Change"] == change["change_id"]
    assert f"\nThe change:   {CHANGE_URL}\nChange id:    {change['change_id']}\n" in mail.text
    assert f"Change id <code>{change['change_id']}</code>" in mail.html


def test_a_digest_and_an_alert_without_a_change_id_have_no_change_header(change):
    digest = digest_email([change], "2025-08-25", tier("free"), LINKS).for_recipient(UNSUBSCRIBE)
    del change["change_id"]
    alert = alert_email(change, tier("watcher"), LINKS).for_recipient(UNSUBSCRIBE)
    for mail in (digest, alert):
        parsed = email.message_from_bytes(build_message("a@policywatch.example", "b@example.com", mail, None))
        assert parsed["X-Policywatch-Change"] is None
    assert "Change id" not in alert.text and "Change id" not in alert.html


# --- policy text is data, never markup -------------------------------------------------------


def test_policy_text_cannot_inject_markup_or_links(change):
    change["summary"] = f"Summary {EVIL}"
    change["platform_name"] = f"Platform {EVIL}"
    change["evidence"]["current"]["source_url"] = "javascript:alert(1)"
    for block in change["blocks"]:
        block["heading"] += EVIL
        block["before"] += EVIL
        block["after"] += EVIL
        block["delta"] = [{"op": "removed", "text": EVIL}, {"op": "added", "text": EVIL}, {"op": "equal", "text": EVIL}]
    for provision in change["provisions"]:
        provision["label"] += EVIL
        provision["says"] = [EVIL]
        for quote in provision["quotes"]:
            quote.update(heading=quote["heading"] + EVIL, before=quote["before"] + EVIL, after=quote["after"] + EVIL)
        for engaged in provision["regulations"]["engages"]:
            engaged["reason"] += EVIL
    for plan in ("watcher", "professional"):
        alert = alert_email(change, tier(plan), LINKS).for_recipient(UNSUBSCRIBE).html
        digest = digest_email([change], "2025-08-25", tier(plan), LINKS).for_recipient(UNSUBSCRIBE).html
        for html in (alert, digest):
            assert "<script" not in html and 'evil.example">' not in html
            assert 'href="https://evil.example"' not in html and 'href="javascript:' not in html
            assert "&lt;script&gt;" in html and "&lt;a href=&#34;https://evil.example&#34;&gt;" in html
            hrefs = re.findall(r"<a href=\"([^\"]*)\"", html)  # our links only: change page, evidence, unsubscribe
            assert hrefs and html.count("<a ") == len(hrefs)
            assert all(href.startswith("https://policywatch.example/") for href in hrefs)


def test_subject_is_one_line_whatever_the_summary(change):
    change["summary"] = "Line one\r\nBcc: victim@example.com\nline three"
    mail = alert_email(change, tier("watcher"), LINKS)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    parsed = email.message_from_bytes(
        build_message("a@policywatch.example", "b@example.com", mail, None), policy=policy.default
    )
    assert parsed["Bcc"] is None


# --- digest ----------------------------------------------------------------------------------


def test_digest_groups_changes_by_platform_with_links(change):
    openai = _other_platform(change, "openai", "OpenAI (ChatGPT)", "2025-08-27T003202.000Z")
    mail = digest_email([openai, change], "2025-08-25", tier("free"), LINKS).for_recipient(UNSUBSCRIBE)
    assert mail.subject == "[policywatch] Week of 25 August 2025: 2 changes on Anthropic (Claude), OpenAI (ChatGPT)"
    for body in (mail.text, mail.html):
        assert body.index("Anthropic (Claude)") < body.index("OpenAI (ChatGPT)")  # grouped, by name
        assert CHANGE_URL in body
        assert "https://policywatch.example/changes/openai/privacy-policy/2025-08-27T003202.000Z" in body
        assert "Model training on user content" in body and "28 September 2025" in body
        assert "Same-day alerts" in body  # the free tier is offered same-day alerts
        assert "GDPR" not in body and "We [-will not-]" not in body and SHA_CURRENT not in body
    assert "Unsubscribe with one click" in mail.text


def test_professional_digest_names_the_regulations_engaged(change):
    mail = digest_email([change], "2025-08-25", tier("professional"), LINKS)
    assert "engages GDPR" in mail.text and "Same-day alerts" not in mail.text


def test_digest_subject_stays_short_with_many_platforms(change):
    many = [_other_platform(change, f"p{i}", f"Platform number {i}", "2025-08-27T003202.000Z") for i in range(12)]
    subject = digest_email(many, "2025-08-25", tier("free"), LINKS).subject
    assert len(subject) <= SUBJECT_MAX_CHARS and subject.startswith("[policywatch] Week of 25 August 2025: 12 changes")
    assert re.search(r"and \d+ more$", subject)


def test_an_empty_digest_still_renders(change):
    mail = digest_email([], "2025-08-25", tier("free"), LINKS).for_recipient(None)
    assert mail.subject == "[policywatch] Week of 25 August 2025: 0 changes" and "Nothing changed" in mail.text


# --- SMS -------------------------------------------------------------------------------------


def test_alert_sms_of_the_real_event_fits_and_ends_with_the_link(change):
    text = alert_sms(change, LINKS)
    assert segments(text) <= MAX_SEGMENTS
    assert text.startswith("policywatch: HIGH Anthropic (Claude) changed its Privacy Policy. Now permits training")
    assert text.endswith(" " + CHANGE_URL)


def test_alert_sms_shortens_a_long_summary_with_an_ellipsis(change):
    change["summary"] = "Now permits training models on user content " * 20
    text = alert_sms(change, LINKS)
    assert segments(text) == MAX_SEGMENTS and text.endswith("... " + CHANGE_URL)


def test_alert_sms_with_a_non_gsm_summary(change):
    change["summary"] = "现在允许使用用户内容训练模型；新增在退出后仍然有效的例外 " * 5
    text = alert_sms(change, LINKS)
    assert segments(text) <= MAX_SEGMENTS and text.endswith(" " + CHANGE_URL)
    change["summary"] = "It \u201cmay\u201d use your data \u2013 even if you opt out\u2026"
    text = alert_sms(change, LINKS)
    assert is_gsm(text) and 'It "may" use your data - even if you opt out...' in text  # folded to GSM-7


def test_alert_sms_without_links_has_no_url(change):
    text = alert_sms(change, Links(""))
    assert "http" not in text and segments(text) <= MAX_SEGMENTS


def test_alert_sms_never_cuts_the_link(change):
    long_links = Links("https://policywatch.example/" + "x" * 150)
    text = alert_sms(change, long_links)
    assert text.endswith(long_links.change(change["record_key"])) and segments(text) <= MAX_SEGMENTS
    with pytest.raises(InternalError, match="link"):
        alert_sms(change, Links("https://policywatch.example/" + "x" * 400))


# --- the only links are ours: policy text is defanged (issue 11) ----------------------------------

# Everything a mail client or phone turns into a link: schemes, www., bare domains, addresses,
# upper case, an invisible joiner inside a domain, a scheme glued to a word.
LINKY = (
    "Visit https://evil.com/login?next=1, www.evil-site.com or evil.io/path and WWW.EVIL.NET, "
    "fetch ftp://files.evil.org, write to phish@evil.com or privacy@mail.evil.co.uk, "
    "see evil\u200d.com, foo_https://glued.com and Claude.ai"
)
SOURCE_URL = "https://www.anthropic.com/legal/privacy"  # the catalog's URL of the document: ours too


def _linkify():
    from linkify_it import LinkifyIt

    # linkify-it (markdown-it's autolinker) with the TLDs these tests use on top of its own
    return LinkifyIt().tlds(["ai", "app", "dev", "example", "io"], True)


def _autolinked(text: str) -> list[str]:
    """What an autolinking mail client or phone would make a link of in ``text``."""
    return [m.url for m in _linkify().match(text) or []]


def _ours(url: str) -> bool:
    return url.startswith("https://policywatch.example/") or url == SOURCE_URL


def _visible_text(html: str) -> str:
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser").get_text(" ")


def _linky_change(change: dict) -> dict:
    change["summary"] = f"Adds section \u201c{LINKY}\u201d"
    for block in change["blocks"]:
        block["heading"] += " " + LINKY
        block["before"] += " " + LINKY
        block["after"] += " " + LINKY
        block["delta"] = [
            {"op": "removed", "text": LINKY},
            {"op": "added", "text": LINKY},
            {"op": "equal", "text": "x"},
        ]
    for provision in change["provisions"]:
        for quote in provision["quotes"]:
            quote.update(heading=quote["heading"] + " " + LINKY, before=LINKY, after=LINKY + " more")
    return change


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("https://evil.com/a.b", "hxxps://evil[.]com/a.b"),
        ("HTTPS://EVIL.COM", "HXXPS://EVIL[.]COM"),
        ("http://10.0.0.1/", "hxxp://10.0.0.1/"),
        ("ftp://a.org", "fxp://a[.]org"),
        ("file://etc/passwd", "file[:]//etc/passwd"),
        ("www.x.y", "www[.]x.y"),  # some clients link anything after www.
        ("evil.io/path", "evil[.]io/path"),
        ("privacy@anthropic.com.", "privacy[@]anthropic[.]com."),
        ("evil\u200d.com", "evil[.]com"),  # linkify-it links it with the joiner
        ("interests.It is", "interests[.]It is"),  # .it is a country's domain: a glued sentence links
        ("e.g., i.e. the U.S. and Section 3.2, v1.5", "e.g., i.e. the U.S. and Section 3.2, v1.5"),  # kept
        ("hxxps://evil[.]com", "hxxps://evil[.]com"),  # already defanged: unchanged
        ("a@b, x@localhost", "a@b, x@localhost"),
    ],
)
def test_defang_makes_links_unlinkable_and_keeps_prose(text, shown):
    assert policy_text(text, 1000) == shown
    assert defang(shown) == shown and not _autolinked(shown)


def test_policy_text_cannot_put_a_link_into_an_email(change):
    """Issue 11: bare URLs, domains and addresses in quotes and headings reached mail as autolinkable text."""
    _linky_change(change)
    for plan in ("watcher", "professional"):
        alert = alert_email(change, tier(plan), LINKS).for_recipient(UNSUBSCRIBE)
        digest = digest_email([change], "2025-08-25", tier(plan), LINKS).for_recipient(UNSUBSCRIBE)
        for mail in (alert, digest):
            hrefs = re.findall(r"href=\"([^\"]*)\"", mail.html)
            assert hrefs and all(_ours(href) for href in hrefs)
            for text in (mail.text, _visible_text(mail.html), mail.subject):
                assert [url for url in _autolinked(text) if not _ours(url)] == [], plan
            assert "evil[.]com" in mail.text and "evil[.]com" in mail.html
        assert "hxxps://evil[.]com/login" in alert.text and "phish[@]evil[.]com" in alert.text
        assert "hxxps://evil[.]com/login" in _visible_text(alert.html)
        assert any(url.startswith("https://policywatch.example/changes/") for url in _autolinked(alert.text))


def test_an_added_heading_with_links_reaches_subject_and_sms_defanged(change):
    """A new section's heading goes into the summary, the subject and the SMS; its links do not."""
    old = "# Privacy Policy\n\n## Your rights\n\nYou may ask us to delete your data.\n"
    new = old + "\n## Contact https://evil.com or phish@evil.com\n\nWrite to privacy@evil.com at any time.\n"
    current = VersionRef(f"versions/anthropic/privacy-policy/{STAMP}.md", "anthropic", "privacy-policy", "", "", "")
    previous = replace(current, key="versions/anthropic/privacy-policy/2025-08-28T003202.000Z.md")
    record = build_record(
        previous, current, old, new, document_type="Privacy Policy", seen_fingerprints=[], fingerprint="f",
        now=datetime(2025, 8, 29, tzinfo=UTC),
    )  # fmt: skip
    assert "https://evil.com" in record["summary"]  # the analysis quotes the heading as it is
    mail = alert_email(record, tier("watcher"), LINKS).for_recipient(UNSUBSCRIBE)
    text = alert_sms(record, LINKS)
    assert "hxxps://evil[.]com" in mail.text and "hxxps://evil[.]com" in text
    for shown in (mail.subject, mail.text, _visible_text(mail.html), text):
        assert [url for url in _autolinked(shown) if not _ours(url)] == []
    assert _autolinked(text) == [LINKS.change(f"changes/anthropic/privacy-policy/{STAMP}.json")]


HEADER_ATTACKS = [
    "Line one\r\nBcc: victim@example.com",
    "x\rBcc: victim@example.com",
    "x\nBcc: victim@example.com",
    "x\u2028Bcc: victim@example.com\u2029y",
    "x\x85Bcc: victim@example.com",
    "x\x00\x1b[31m\x7f\u202eevil\u2066\ufeff\u200b\ud800",  # NUL, an escape, bidi, invisible, a lone surrogate
    "=?utf-8?q?x=0D=0ABcc:_victim=40example.com?=",  # the email package decoded it, CR LF and all
    "=?utf-8?b?eA0KQmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?=",
    "Now permits training " * 200,
]


@pytest.mark.parametrize("summary", HEADER_ATTACKS)
def test_a_summary_cannot_inject_headers_or_hide_text(change, summary):
    change["summary"] = summary
    mail = alert_email(change, tier("watcher"), LINKS)
    assert len(mail.subject) <= SUBJECT_MAX_CHARS
    assert all(c.isprintable() for c in mail.subject), repr(mail.subject)
    raw = build_message("a@policywatch.example", "b@example.com", mail, UNSUBSCRIBE)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["To"] == "b@example.com"
    assert sorted(parsed.keys()) == sorted(
        ["From", "To", "Subject", "Date", "Message-ID", "X-Policywatch-Change", "List-Unsubscribe"]
        + ["List-Unsubscribe-Post", "Content-Type", "MIME-Version"]
    )  # no header of the summary's making
    assert "victim@example.com" not in str(parsed["Subject"])  # shown, if at all, as victim[@]example[.]com
    assert all(c.isprintable() for c in str(parsed["Subject"]))
    text = alert_sms(change, LINKS)
    assert all(c.isprintable() for c in text) and segments(text) <= MAX_SEGMENTS
    assert text.endswith(" " + CHANGE_URL)


def test_sms_carries_only_our_link(change):
    change["summary"] = LINKY
    text = alert_sms(change, LINKS)
    assert _autolinked(text) == [CHANGE_URL] and segments(text) <= MAX_SEGMENTS
    assert "hxxps://evil[.]com/login" in text


@pytest.mark.timeout(20)
def test_huge_hostile_policy_text_renders_within_bounds(change):
    """Defanging is linear, and policy text is read only up to a budget: a 2 MB summary costs little."""
    for filler in ("a." * 1_000_000, "a@" * 1_000_000, "http://" * 300_000, "\u202e" * 1_000_000):
        change["summary"] = filler
        mail = alert_email(change, tier("professional"), LINKS).for_recipient(UNSUBSCRIBE)
        assert len(mail.subject) <= SUBJECT_MAX_CHARS and len(mail.text) < 60_000
        assert segments(alert_sms(change, LINKS)) <= MAX_SEGMENTS


def test_a_professional_alert_carries_each_subscribers_own_link_to_the_professional_view(change):
    rendered = alert_email(change, tier("professional"), LINKS)
    pro = LINKS.pro(f"pro/changes/anthropic/privacy-policy/{STAMP}", "sub-1", "tok-1", 1_800_000_000)
    filled = rendered.for_recipient(UNSUBSCRIBE, pro)
    assert f"compliance checks (your link, 30 days): {pro}" in filled.text
    assert "Open the Professional view</a>" in filled.html and pro.replace("&", "&amp;") in filled.html
    assert rendered.pro_marker not in filled.text + filled.html
    # Without a link (no token on file), the place is left empty, never a marker.
    bare = rendered.for_recipient(UNSUBSCRIBE, None)
    assert rendered.pro_marker not in bare.text + bare.html and "Professional view" not in bare.html
    # Tiers without regulatory mapping have no such place at all.
    watcher = alert_email(change, tier("watcher"), LINKS)
    assert not watcher.pro_marker and "Professional view" not in watcher.for_recipient(UNSUBSCRIBE, pro).html
