"""`policywatch accept` against moto, through a stack's outputs: it marks a fetched document so
that its next text is taken as it is, and answers one line for a key nothing has fetched."""

from __future__ import annotations

import json

import boto3
import pytest
from moto import mock_aws

from devstack.tables import create_tables
from policywatch.storage import clients as aws
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch_cli.main import main

REGION = "us-east-1"
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")


@pytest.fixture
def stack(monkeypatch):
    for name, value in {
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    monkeypatch.delenv("POLICYWATCH_STACK", raising=False)
    with mock_aws():
        aws.reset()
        create_tables(boto3.client("dynamodb", region_name=REGION), {"DocumentsTable": "documents"})
        template = {
            "Resources": {"Nothing": {"Type": "AWS::CloudFormation::WaitConditionHandle"}},
            "Outputs": {"DocumentsTableName": {"Value": "documents"}},
        }
        boto3.client("cloudformation", region_name=REGION).create_stack(
            StackName="policywatch", TemplateBody=json.dumps(template)
        )
        yield DocumentStates("documents")
        aws.reset()


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
