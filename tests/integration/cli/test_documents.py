"""`policywatch accept` against moto, through a stack's outputs: it marks a fetched document so
that its next text is taken as it is, and answers one line for a key nothing has fetched."""

from __future__ import annotations

import boto3
import pytest

from devstack.tables import create_tables
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch_cli.main import main
from tests.integration.cli.conftest import REGION, create_stack

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")


@pytest.fixture
def stack(mocked_aws):
    create_tables(boto3.client("dynamodb", region_name=REGION), {"DocumentsTable": "documents"})
    create_stack("policywatch", {"DocumentsTableName": "documents"})
    return DocumentStates("documents")


def test_accept_marks_a_refused_document_for_its_next_fetch(stack, capsys):
    stack.put(
        DocumentState("mistral/developer-terms", fingerprint="ab" * 32, last_error="text-collapsed: 7% of the last")
    )
    assert main(["accept", "mistral/developer-terms"]) == 0
    out = capsys.readouterr().out
    assert out == (
        "mistral/developer-terms: the next fetch takes its text as it is "
        "(last refused: text-collapsed: 7% of the last); `policywatch sweep` fetches now\n"
    )
    assert stack.get("mistral/developer-terms").accept_next


def test_accept_of_a_document_never_fetched_is_one_line_and_changes_nothing(stack, capsys):
    assert main(["accept", "nobody/nothing"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.count("\n") == 1
    assert "nobody/nothing: no such document has been fetched" in captured.err
    assert stack.all() == []
