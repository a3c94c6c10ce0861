"""Dates in policy text: what ``mask`` hides, the date a text says it takes effect, and date-only statements."""

from __future__ import annotations

import re
from datetime import date

import pytest

from policywatch.analysis import dates
from policywatch.analysis.dates import DATE_PLACEHOLDER

# --- finding and masking dates --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "September 28, 2025",
        "September 28 2025",
        "Sept. 28, 2025",
        "Sep 28th, 2025",
        "SEPTEMBER 28, 2025",
        "28 September 2025",
        "28th of September, 2025",
        "28 Sept 2025",
        "2025-09-28",
        "September 2025",
    ],
)
def test_every_way_a_policy_writes_a_date_is_masked_as_one_word(written):
    masked = dates.mask(f"Last updated {written}. We keep data.")
    assert masked.split() == ["Last", "updated", DATE_PLACEHOLDER, ".", "We", "keep", "data."]
    assert not re.search(r"\d", masked)


def test_each_date_of_a_text_is_masked():
    masked = dates.mask("Dec 1st, 2024 replaced the terms of 1 Jan 2023 and 2022-07-01.")
    assert masked.split().count(DATE_PLACEHOLDER) == 3
    assert "replaced the terms of" in masked


@pytest.mark.parametrize(
    "text",
    [
        "In May we may share your data.",  # a month without a year is a word
        "We were founded in 2021.",  # a year alone is no date
        "Mayday 2025 was a holiday.",  # a month's letters inside a word
        "9/28/2025",  # numeric forms other than ISO are not read
        "2025-13-45",  # no such month
    ],
)
def test_what_is_not_a_date_is_left_alone(text):
    assert dates.mask(text) == text


def test_the_placeholder_is_one_word_without_digits():
    assert re.fullmatch(r"[A-Za-z]+", DATE_PLACEHOLDER)


# --- the date a text takes effect -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Effective September 28, 2025[Previous Version](https://x)", date(2025, 9, 28)),
        ("**Effective:** February 15, 2024 ([previous version](https://x))", date(2024, 2, 15)),
        ("**Version Effective Date: December 20, 2023**", date(2023, 12, 20)),
        ("These terms take effect on 4 June 2026.", date(2026, 6, 4)),
        ("This policy is effective as of 2025-01-31.", date(2025, 1, 31)),
        ("Updated: 4 June 2026", None),
        ("This Agreement is effective when the Customer is presented with it.", None),
    ],
)
def test_effective_date_statements(text, expected):
    assert dates.effective_date(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("These terms come into force on 1 March 2026.", date(2026, 3, 1)),
        ("The new terms are in effect from 2026-03-01.", date(2026, 3, 1)),
        ("This policy will apply from 4 June 2026.", date(2026, 6, 4)),
        ("Effective: Sept. 28, 2025", date(2025, 9, 28)),
        ("Effective date: 28th of September, 2025", date(2025, 9, 28)),
        ("Effective for all users from 4 June 2026.", date(2026, 6, 4)),  # a date a few words on
        ("These terms take effect in March 2026.", date(2026, 3, 1)),  # within a few words, no sentence between
        ("Effective March 2026.", date(2026, 3, 1)),  # a month and year: its first day
    ],
)
def test_the_ways_a_text_says_when_it_takes_effect(text, expected):
    assert dates.effective_date(text) == expected


def test_a_date_after_the_statement_ends_is_not_its_date():
    assert dates.effective_date("Effective immediately. Updated 4 June 2026.") is None
    assert dates.effective_date("Effective on the day you accept; see the notice of 4 June 2026") is None


def test_the_first_statement_with_a_real_date_is_the_one():
    assert dates.effective_date("Effective February 30, 2025; effective March 3, 2025") == date(2025, 3, 3)
    assert dates.effective_date("Effective 1 May 2025. This version takes effect on 2 June 2025.") == date(2025, 5, 1)


def test_a_text_without_an_effective_statement_has_no_date():
    assert dates.effective_date("Published 4 June 2026. We keep your data for 30 days.") is None


# --- date-only statements -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Last updated: January 1, 2025",
        "Effective 2025-01-31",
        "Revised March 2024",
        "Version dated 1 May 2024",
        "Last modified on 3 June 2025 (see the previous version)",
    ],
)
def test_a_line_that_only_says_when_is_a_date_statement(line):
    assert dates.is_date_statement(line)


@pytest.mark.parametrize(
    "line",
    [
        "We were founded on 4 June 2021.",  # a date, but no word of updating or taking effect
        "Last updated recently",  # a word of updating, but no date
    ],
)
def test_a_line_without_a_date_or_without_saying_when_is_not(line):
    assert not dates.is_date_statement(line)


def test_a_date_statement_is_at_most_thirty_words_once_its_dates_are_masked():
    stated = "Updated January 1, 2025 " + "note " * 28  # 30 words once masked
    assert dates.is_date_statement(stated)
    assert not dates.is_date_statement(stated + "note")


@pytest.mark.timeout(10)
def test_a_long_text_is_no_date_statement_without_masking_it_all():
    assert not dates.is_date_statement("Effective January 1, 2025. " + "word " * 1_000_000)
    assert dates.is_date_statement("Last updated: January 1, 2025")
