"""Document fetch state: its DynamoDB item, what an extraction records, and the table (moto)."""

from __future__ import annotations

from decimal import Decimal

import boto3
import pytest

from devstack.tables import create_tables
from policywatch.storage.documents import RECENT_FINGERPRINTS, DocumentState, DocumentStates
from tests.helpers.aws import REGION

KEY = "anthropic/privacy-policy"


def full_state() -> DocumentState:
    return DocumentState(
        document_key=KEY,
        fingerprint="fp-3",
        raw_sha256="ab" * 32,
        text_chars=41_230,
        etag='"9f2c"',
        last_modified="Fri, 29 Aug 2025 00:32:02 GMT",
        recent_fingerprints=["fp-3", "fp-2", "fp-1"],
        last_success_at="2025-08-29T00:32:02+00:00",
        last_change_at="2025-08-29T00:32:02+00:00",
        last_version_key="versions/anthropic/privacy-policy/2025-08-29T003202.000Z.md",
        consecutive_failures=2,
        last_error="answered 503",
        last_failed_sweep="sweep-7",
        alerted=True,
        declaration="decl-1",
        extractor_version="html-4",
        last_snapshot_key="snapshots/anthropic/privacy-policy/2025-08-29T003202.000Z.html",
        extracted_sha256="cd" * 32,
        last_redirects=["https://anthropic.com/privacy", "https://www.anthropic.com/legal/privacy"],
    )


# --- the item ------------------------------------------------------------------------------------------


def test_a_state_round_trips_through_its_item():
    state = full_state()
    assert DocumentState.from_item(state.to_item()) == state


def test_the_item_leaves_out_what_is_not_known():
    item = DocumentState(KEY).to_item()
    assert item == {
        "document_key": KEY,
        "recent_fingerprints": [],
        "consecutive_failures": 0,
        "alerted": False,
        "last_redirects": [],
        "collapsed_fetches": 0,
        "accept_next": False,
    }
    assert DocumentState.from_item(item) == DocumentState(KEY)


def test_numbers_come_back_as_ints_and_missing_counters_as_their_defaults():
    """DynamoDB's numbers are Decimals; an item written before a field existed lacks it."""
    state = DocumentState.from_item(
        {"document_key": KEY, "text_chars": Decimal("812"), "consecutive_failures": Decimal(3)}
    )
    assert state.text_chars == 812 and type(state.text_chars) is int
    assert state.consecutive_failures == 3 and type(state.consecutive_failures) is int
    older = DocumentState.from_item({"document_key": KEY})
    assert (older.consecutive_failures, older.alerted, older.text_chars) == (0, False, None)


def test_attributes_the_state_does_not_know_are_ignored():
    """An item written by a newer version of the code (or by hand) still loads."""
    state = DocumentState.from_item({"document_key": KEY, "fingerprint": "fp-1", "written_by": "a later version"})
    assert state == DocumentState(KEY, fingerprint="fp-1")


# --- recording an extraction ----------------------------------------------------------------------------


def test_a_new_version_is_recorded_with_its_fingerprint_first_among_the_recent():
    state = DocumentState(KEY, recent_fingerprints=["fp-2", "fp-1"])
    state.record_extraction("fp-3", 1_200, "decl-2", "html-4", version_key="versions/k3.md")
    assert state.recent_fingerprints == ["fp-3", "fp-2", "fp-1"]
    assert (state.fingerprint, state.text_chars, state.declaration, state.extractor_version) == (
        "fp-3",
        1_200,
        "decl-2",
        "html-4",
    )
    assert state.last_version_key == "versions/k3.md"


def test_the_recent_fingerprints_stay_bounded_and_newest_first():
    state = DocumentState(KEY)
    for n in range(RECENT_FINGERPRINTS + 5):
        state.record_extraction(f"fp-{n}", 100, "decl", "html-4", version_key=f"versions/k{n}.md")
    newest = RECENT_FINGERPRINTS + 4
    assert state.recent_fingerprints == [f"fp-{n}" for n in range(newest, newest - RECENT_FINGERPRINTS, -1)]
    assert len(state.recent_fingerprints) == RECENT_FINGERPRINTS == 10


def test_a_text_that_comes_back_moves_to_the_front_once():
    """A flap back to an earlier text: its fingerprint is listed once, first."""
    state = DocumentState(KEY, recent_fingerprints=["fp-3", "fp-2", "fp-1"])
    state.record_extraction("fp-1", 100, "decl", "html-4", version_key="versions/k4.md")
    assert state.recent_fingerprints == ["fp-1", "fp-3", "fp-2"]


def test_an_extraction_without_a_new_version_leaves_the_recent_fingerprints_and_version_alone():
    """The same text extracted again (or rebuilt by a new extractor): no version written, none remembered."""
    state = DocumentState(KEY, recent_fingerprints=["fp-2", "fp-1"], last_version_key="versions/k2.md")
    state.record_extraction("fp-2b", 990, "decl-3", "html-5")
    assert state.recent_fingerprints == ["fp-2", "fp-1"] and state.last_version_key == "versions/k2.md"
    assert (state.fingerprint, state.text_chars, state.declaration, state.extractor_version) == (
        "fp-2b",
        990,
        "decl-3",
        "html-5",
    )


# --- the table (moto) ------------------------------------------------------------------------------------


@pytest.fixture
def states(moto) -> DocumentStates:
    create_tables(boto3.client("dynamodb", region_name=REGION), {"DocumentsTable": "documents"})
    return DocumentStates("documents")


def test_a_document_never_seen_has_a_fresh_state(states):
    assert states.get(KEY) == DocumentState(KEY)


def test_a_state_put_is_got_back_as_it_was(states):
    state = full_state()
    states.put(state)
    assert states.get(KEY) == state


def test_all_states_come_sorted_by_document(states):
    for key in ("openai/privacy-policy", KEY, "mistral/terms-of-service"):
        states.put(DocumentState(key, consecutive_failures=1))
    assert [s.document_key for s in states.all()] == [KEY, "mistral/terms-of-service", "openai/privacy-policy"]
    assert {s.consecutive_failures for s in states.all()} == {1}
