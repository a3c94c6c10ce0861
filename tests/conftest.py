"""Shared test setup: handler folders importable, corpus paths, fake AWS credentials."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.iam_policy import Audit, handler_functions

# What template.yaml gives every function (Powertools reads them when handlers are imported).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "policywatch")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "policywatch")

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"


def corpus_page(relative: str) -> bytes:
    """A raw page from ../shared/corpus/snapshots (Open Terms Archive GenAI collection, ODC-By 1.0)."""
    path = CORPUS / "snapshots" / relative
    if not path.exists():
        pytest.fail(f"corpus page {path} is missing: the tests need ../shared beside the project")
    return path.read_bytes()


HISTORIES = CORPUS / "histories"


def history_version(history: str, seq: int) -> str:
    """Version ``seq`` of a recorded history in ../shared/corpus/histories (Open Terms Archive, ODC-By 1.0)."""
    path = HISTORIES / history / "versions" / f"{seq:04d}.md"
    if not path.exists():
        pytest.fail(f"corpus history version {path} is missing: the tests need ../shared beside the project")
    return path.read_text()


@pytest.fixture(autouse=True)
def iam_as_in_aws(monkeypatch) -> Iterator[Audit]:
    """Every AWS call a handler makes is authorised by its template.yaml policy, as in AWS (tests/iam_policy.py)."""
    audit = Audit()
    original = BaseClient._make_api_call

    def make_api_call(client: BaseClient, operation: str, params: dict) -> dict:
        service = client.meta.service_model.service_name
        why = audit.refusal(service, operation, params)
        if why:
            error = {"Error": {"Code": "AccessDenied", "Message": f"not authorised by template.yaml: {why}"}}
            raise ClientError(error, operation)
        try:
            return original(client, operation, params)
        except ClientError as exc:
            audit.missing(service, operation, params, str(exc.response.get("Error", {}).get("Code", "")))
            raise

    monkeypatch.setattr(BaseClient, "_make_api_call", make_api_call)
    for module_name, function in handler_functions().items():
        module = importlib.import_module(module_name)
        monkeypatch.setattr(module, "handler", _running_as(audit, function, module.handler))
    yield audit
    if audit.denied:
        pytest.fail(
            "IAM in AWS would refuse what this test's handlers did:\n  " + "\n  ".join(dict.fromkeys(audit.denied))
        )


def _running_as(audit: Audit, function: str, handler: Callable) -> Callable:
    @functools.wraps(handler)
    def run(*args, **kwargs):
        audit.active.append(function)
        try:
            return handler(*args, **kwargs)
        finally:
            audit.active.pop()

    return run
