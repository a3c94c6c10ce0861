"""Shared test setup: Powertools' environment, and every handler's AWS calls held to its template.yaml policy.

Helpers the tests share (corpus pages, events, servers ...) are in tests/helpers, not here."""

from __future__ import annotations

import functools
import importlib
import os
from collections.abc import Callable, Iterator

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.helpers.iam_policy import Audit, handler_functions

# What template.yaml gives every function (Powertools reads them when handlers are imported).
os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "policywatch")
os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "policywatch")


@pytest.fixture(autouse=True)
def iam_as_in_aws(monkeypatch) -> Iterator[Audit]:
    """Every AWS call a handler makes is authorised by its template.yaml policy, as in AWS (tests/helpers/iam_policy.py)."""
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
