"""Re-dating flags: the date a policy states for itself, and a change whose text moved without it
or whose date moved alone (issue 17, item 5).

The phrasings are the corpus's own (Open Terms Archive GenAI collection, ODC-By 1.0), one per
class of phrasing; the flags are checked on the recorded histories in ../shared/corpus.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from policywatch.analysis import dates
from policywatch.analysis.assess import analyse
from policywatch.analysis.changes import build_record
from policywatch.core import events
from policywatch.storage.archive import VersionRef
from tests.helpers.corpus import CHATGPT, CLAUDE, MIDJOURNEY, history_version

# --- the date a text states for itself ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "kind", "label", "value"),
    [
        ("Last updated: 15 April 2025", "updated", "Last updated", "2025-04-15"),  # Sana
        ("Last Updated: July 22, 2026", "updated", "Last Updated", "2026-07-22"),  # fal
        ("Latest updated: 2025-10-16", "updated", "Latest updated", "2025-10-16"),  # Berget AI
        ("UpdatedNovember 14, 2023", "updated", "Updated", "2023-11-14"),  # OpenAI, a line break lost
        ("Updated: 4 June 2026", "updated", "Updated", "2026-06-04"),  # ChatGPT
        ("Last Update: 16 July, 2026", "updated", "Last Update", "2026-07-16"),  # DeepSeek
        ("Last modified: January 9th, 2025", "updated", "Last modified", "2025-01-09"),  # Scribe
        ("Date of Last Revision: May 27, 2023", "updated", "Date of Last Revision", "2023-05-27"),  # SambaNova
        ("These Terms are effective and were last updated on Jul 1, 2025.", "updated", "last updated", "2025-07-01"),
        ("Last Modified: 11/12/2025", "updated", "Last Modified", "2025-11-12"),  # Fireworks AI: month first
        ("Last updated: 02/24/2025 to update URL links.", "updated", "Last updated", "2025-02-24"),  # Replit
        ("Last Updated: July 2026", "updated", "Last Updated", "2026-07"),  # Microsoft Copilot: a month
        ("更新日期：2026年7月15日", "updated", "更新日期", "2026-07-15"),  # Doubao
        ("协议更新日期：2024 年 12 月 19 日", "updated", "更新日期", "2024-12-19"),  # Kimi AI
        ("Effective September 28, 2025Previous Version", "effective", "Effective", "2025-09-28"),  # Claude.ai
        ("Effective: July 31, 2025 (see previous versions)", "effective", "Effective", "2025-07-31"),  # Stability AI
        ("Effective as of May 27 2025", "effective", "Effective", "2025-05-27"),  # Le Chat
        ("Effective from 13 November 2023", "effective", "Effective", "2023-11-13"),  # Llama API
        ("Version Effective Date: May 27, 2026", "effective", "Version Effective Date", "2026-05-27"),  # Midjourney
        ("Effective Date*: August 15, 2026", "effective", "Effective Date", "2026-08-15"),  # Lovable
        ("生效日期：2026年7月22日", "effective", "生效日期", "2026-07-22"),  # Doubao
    ],
)
def test_each_way_the_corpus_dates_a_text_is_read(line, kind, label, value):
    stated = dates.stated_dates(f"Privacy Policy\n{line}\nWe collect what you give us.")
    assert stated[kind].label == label and stated[kind].value == value


@pytest.mark.parametrize(
    "text",
    [
        "We will notify you and revise the \u201cLast updated\u201d date at the top of this Privacy Policy.",
        "2024-01-10: We've updated our Usage Policies to be clearer.",  # a changelog: history, not the text's date
        "Changes are effective 30 days after we post them, on 1 March 2026 at the earliest.",
        "\u201cEffective Date\u201d means the date this Agreement is signed.",
        "We updated our practices on March 3, 2025 to add a new processor.",  # "updated" within a sentence
        "Tuesday, July 29, 2025",  # a date with no label
    ],
)
def test_a_label_without_a_date_or_a_date_without_a_label_states_none(text):
    assert dates.stated_dates(text) == {}


def test_the_header_is_the_first_dating_and_those_just_after_it():
    """ChatGPT's usage policies page carries an agent guide 90 lines on with its own "Updated"
    date: the policies are dated by their header, "Effective: October 29, 2025"."""
    page = "Effective: October 29, 2025\n" + "We prohibit fraud.\n" * 60 + "Updated: July 17, 2025\nAgent guide."
    assert {k: v.value for k, v in dates.stated_dates(page).items()} == {"effective": "2025-10-29"}
    kimi = "协议发布及生效日期：2024 年 1 月 5 日起\n协议更新日期：2024 年 12 月 19 日\n正文"
    assert {k: v.value for k, v in dates.stated_dates(kimi).items()} == {
        "effective": "2024-01-05",
        "updated": "2024-12-19",
    }


def test_a_dating_stated_last_is_found_at_the_end_of_a_long_text():
    body = "We collect what you give us. " * 2_000  # 58,000 characters
    text = f"Privacy Policy\n{body}\nThis privacy policy was last modified January 30th, 2025."  # Scribe
    assert dates.stated_dates(text)["updated"].value == "2025-01-30"


def test_numeric_dates_are_read_month_first_unless_they_cannot_be():
    assert dates.stated_dates("Last updated: 3/4/2025")["updated"].value == "2025-03-04"
    assert dates.stated_dates("Last updated: 24/2/2025")["updated"].value == "2025-02-24"
    assert dates.stated_dates("Last updated: 24.02.2025")["updated"].value == "2025-02-24"
    assert dates.stated_dates("Last updated: 13/13/2025") == {}


# --- a change's dating -----------------------------------------------------------------------------------

OLD = "Privacy Policy\nLast updated: March 12, 2025\nWe keep logs for 30 days."


@pytest.mark.parametrize(
    ("new", "kind", "expected"),
    [
        ("Privacy Policy\nLast updated: March 12, 2025\nWe keep logs for a year.", "substantive",
         {"flag": "unchanged-date", "label": "Last updated", "before": "2025-03-12", "after": "2025-03-12"}),
        ("Privacy Policy\nLast updated: May 2, 2025\nWe keep logs for a year.", "substantive",
         {"flag": None, "label": "Last updated", "before": "2025-03-12", "after": "2025-05-02"}),
        ("Privacy Policy\nLast updated: May 2, 2025\nWe keep logs for 30 days.", "date-only",
         {"flag": "date-only", "label": "Last updated", "before": "2025-03-12", "after": "2025-05-02"}),
        ("Privacy Policy\nLast updated: March 12, 2025\nWe keep logs for 30 days (see 1 May 2024).", "date-only",
         {"flag": None, "label": "Last updated", "before": "2025-03-12", "after": "2025-03-12"}),
        ("Privacy Policy\nLast updated: March 12, 2025\nWe keep [logs](https://x.test) for 30 days.", "cosmetic",
         {"flag": None, "label": "Last updated", "before": "2025-03-12", "after": "2025-03-12"}),
        ("Privacy Policy\nWe keep logs for a year.", "substantive",
         {"flag": None, "label": "Last updated", "before": "2025-03-12", "after": None}),
        ("Privacy Policy\nEffective: March 12, 2025\nWe keep logs for a year.", "substantive",  # relabelled
         {"flag": "unchanged-date", "label": "Effective", "before": "2025-03-12", "after": "2025-03-12"}),
        ("Privacy Policy\nLast updated: March 12, 2025\nWe keep logs for a year.", "flap",
         {"flag": None, "label": "Last updated", "before": "2025-03-12", "after": "2025-03-12"}),
    ],
)  # fmt: skip
def test_the_flag_by_kind_and_stated_dates(new, kind, expected):
    assert dates.dating(OLD, new, kind) == expected


def test_a_header_dated_both_ways_is_re_dated_by_its_last_updated_date():
    """ChatGPT's processor agreement: "Updated: 1 December 2025" over "Effective: January 1, 2026"."""
    old = "DPA\nUpdated: 1 December 2025\nEffective: January 1, 2026\nWe process data."
    new = "DPA\nUpdated: 9 March 2026\nEffective: January 1, 2026\nWe process data and logs."
    assert dates.dating(old, new, "substantive")["flag"] is None  # type: ignore[index]
    assert dates.dating(old, old.replace("data.", "logs."), "substantive")["label"] == "Updated"  # type: ignore[index]


def test_a_header_re_dated_by_any_of_its_dates_was_re_dated():
    """OpenAI's terms, 2023-12 to 2024-01: "Updated November 14, 2023" kept, "Effective" moved
    from December 14, 2023 to January 31, 2024, and no other word: a date-only change, flagged,
    showing the date that moved; the same move with a reworded text is not unchanged-date."""
    old = "Terms of use\nUpdatedNovember 14, 2023\nEffective: December 14, 2023 (previous version)\nWe provide."
    new = "Terms of use\nUpdatedNovember 14, 2023\nEffective: January 31, 2024 (previous version)\nWe provide."
    assert dates.dating(old, new, "date-only") == {
        "flag": "date-only",
        "label": "Effective",
        "before": "2023-12-14",
        "after": "2024-01-31",
    }
    assert dates.dating(old, new.replace("provide.", "sell."), "substantive")["flag"] is None  # type: ignore[index]


def test_no_stated_date_in_either_version_is_no_dating():
    assert dates.dating("We keep logs.", "We keep logs for a year.", "substantive") is None


# --- on the recorded histories ----------------------------------------------------------------------------


def test_chatgpt_added_a_section_on_training_and_kept_its_updated_date():
    """2025-07-31: a section on how data improves models (training unless you opt out), under the
    same "Updated: November 4, 2024" (Open Terms Archive, ODC-By 1.0)."""
    change = analyse(history_version(CHATGPT, 12), history_version(CHATGPT, 13))
    assert change.kind == "substantive" and change.severity == "high"
    assert change.dating == {
        "flag": "unchanged-date",
        "label": "Updated",
        "before": "2024-11-04",
        "after": "2024-11-04",
    }


def test_claude_changed_its_policy_again_before_the_date_it_had_announced():
    """2025-09-01: the page took on more text, still "Effective September 28, 2025"."""
    change = analyse(history_version(CLAUDE, 6), history_version(CLAUDE, 7))
    assert change.kind == "substantive"
    assert change.dating == {
        "flag": "unchanged-date",
        "label": "Effective",
        "before": "2025-09-28",
        "after": "2025-09-28",
    }


def test_claude_s_training_change_moved_its_effective_date_and_is_not_flagged():
    change = analyse(history_version(CLAUDE, 2), history_version(CLAUDE, 3))
    assert change.kind == "substantive"
    assert change.dating == {"flag": None, "label": "Effective", "before": "2025-05-01", "after": "2025-09-28"}


def test_midjourney_moved_its_version_date_and_nothing_else():
    """2026-05-18: "Version Effective Date" from June 23, 2025 to February 12, 2026, no other word."""
    change = analyse(history_version(MIDJOURNEY, 19), history_version(MIDJOURNEY, 20))
    assert change.kind == "date-only"
    assert change.dating == {
        "flag": "date-only",
        "label": "Version Effective Date",
        "before": "2025-06-23",
        "after": "2026-02-12",
    }


def test_a_date_only_change_of_another_date_is_not_flagged():
    """Claude 2025-10-09: a date changed, not the "Effective" one."""
    change = analyse(history_version(CLAUDE, 60), history_version(CLAUDE, 61))
    assert change.kind == "date-only" and change.dating is not None and change.dating["flag"] is None


# --- in the change record ---------------------------------------------------------------------------------


def _record(old: str, new: str) -> dict:
    ref = {"fetched_at": "2026-01-01T00:00:00Z", "sha256": "", "source_url": "https://x.test/p", "metadata": {}}
    previous = VersionRef(key="versions/x/terms/2026-01-01T000000Z.md", platform="x", document="terms", **ref)
    current = VersionRef(key="versions/x/terms/2026-01-02T000000Z.md", platform="x", document="terms", **ref)
    return build_record(
        previous,
        current,
        old,
        new,
        document_type="Terms of Service",
        fingerprint="",
        now=datetime(2026, 1, 2, tzinfo=UTC),
    )


def test_the_record_and_its_event_carry_the_dating_and_follow_the_schema():
    record = _record(history_version(MIDJOURNEY, 19), history_version(MIDJOURNEY, 20))
    assert record["dating"]["flag"] == "date-only"
    events.validate(record)
    events.validate(events.event_from_record(record, "changes/x/terms/2026-01-02T000000Z.json"))


def test_a_record_without_a_stated_date_has_a_null_dating_and_one_made_before_it_has_none():
    record = _record("# Terms\n\nWe keep logs.", "# Terms\n\nWe keep logs for a year and sell them.")
    assert record["dating"] is None
    events.validate(record)
    del record["dating"]  # a record archived before the field existed is still a valid record
    events.validate(record)


def test_a_flag_the_schema_does_not_know_is_refused():
    record = _record(history_version(MIDJOURNEY, 19), history_version(MIDJOURNEY, 20))
    record["dating"]["flag"] = "late"
    with pytest.raises(events.ChangeRecordError, match="dating/flag"):
        events.validate(record)
