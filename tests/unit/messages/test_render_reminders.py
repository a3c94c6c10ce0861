"""The reminder e-mail, and the digest's "Coming into effect": text and HTML."""

from __future__ import annotations

from policywatch.messages.render import digest_email, reminder_email
from policywatch.subscribers.tiers import tier
from tests.helpers.messages import LINKS, UNSUBSCRIBE

CHANGE = {
    "change_id": "c0ffee",
    "record_key": "changes/anthropic/privacy-policy/2025-08-29T003205.000Z.json",
    "platform": "anthropic",
    "platform_name": "Anthropic (Claude)",
    "document": "privacy-policy",
    "document_type": "Privacy Policy",
    "detected_at": "2025-08-29T00:32:05Z",
    "effective_date": "2025-09-28",
    "severity": "high",
    "summary": "Model training on user content: now opt-out.",
    "categories": ["model-training"],
}
URL = "https://policywatch.example/changes/anthropic/privacy-policy/2025-08-29T003205.000Z"


def test_the_reminder_says_what_takes_effect_when_with_its_link_and_unsubscribe():
    mail = reminder_email(CHANGE, 7, tier("watcher"), LINKS).for_recipient(UNSUBSCRIBE)
    assert mail.subject == (
        "Reminder: Anthropic (Claude)'s Privacy Policy change of 29 August 2025 takes effect on "
        "28 September 2025 (in 7 days)"
    )
    for body in (mail.text, mail.html):
        assert URL in body and "Model training on user content" in body
    assert UNSUBSCRIBE in mail.text and UNSUBSCRIBE.replace("&", "&amp;") in mail.html
    assert mail.change_id == "c0ffee"


def test_the_last_reminder_is_in_one_day():
    assert reminder_email(CHANGE, 1, tier("professional"), LINKS).subject.endswith("(in 1 day)")


def test_the_reminder_escapes_policy_text_in_html():
    hostile = {**CHANGE, "summary": "<script>alert(1)</script> see https://evil.example"}
    mail = reminder_email(hostile, 7, tier("watcher"), LINKS)
    assert "<script>" not in mail.html and "https://evil.example" not in mail.text


def test_the_digest_lists_what_comes_into_effect_soonest_first():
    later = {**CHANGE, "platform_name": "OpenAI (ChatGPT)", "effective_date": "2025-10-15"}
    mail = digest_email([], "2025-09-22", tier("free"), LINKS, [later, CHANGE]).for_recipient(UNSUBSCRIBE)
    assert mail.subject == (
        "[policywatch] Week of 22 September 2025: 0 changes, 2 coming into effect on Anthropic (Claude), OpenAI (ChatGPT)"
    )
    for body in (mail.text, mail.html):
        assert "Coming into effect" in body
        assert body.index("28 September 2025") < body.index("15 October 2025")
        assert URL in body


def test_a_digest_with_nothing_coming_has_no_such_section():
    mail = digest_email([CHANGE], "2025-08-25", tier("free"), LINKS)
    assert "Coming into effect" not in mail.text and "coming into effect" not in mail.subject
