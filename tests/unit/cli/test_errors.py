"""Every error the operator can meet is one line on stderr (a catalog's problems indented below) and exit 1."""

from __future__ import annotations

import io
import json
import sys

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from botocore.parsers import ResponseParserError

from policywatch.catalog import CatalogError
from policywatch.core.errors import InputError
from policywatch.subscribers import SubscriberError, TierError
from policywatch_cli import catalog
from policywatch_cli.main import main
from policywatch_cli.stack import CliError


def _failing(monkeypatch, exc: BaseException) -> None:
    """`catalog check` raises ``exc``: the parser is built at each main(), so the patched command runs."""

    def run(args, out):
        raise exc

    monkeypatch.setattr(catalog, "cmd_catalog_check", run)


@pytest.mark.parametrize(
    "exc",
    [
        CliError("cannot read x"),
        CatalogError("cannot read x"),
        SubscriberError("cannot read x"),
        TierError("cannot read x"),
    ],
)
def test_user_errors_are_their_message(monkeypatch, capsys, exc):
    assert isinstance(exc, InputError)  # the branch main() catches
    _failing(monkeypatch, exc)
    assert main(["catalog", "check"]) == 1
    assert capsys.readouterr().err == "policywatch: error: cannot read x\n"


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:4566/"),
            "cannot reach AWS at http://127.0.0.1:4566/: is MiniStack running? (make up)",
        ),
        (NoCredentialsError(), "no AWS credentials (for the local stack: source .local/env)"),
        (
            ClientError({"Error": {"Code": "AccessDenied", "Message": "no"}}, "DescribeStacks"),
            "AWS refused DescribeStacks: AccessDenied: no",
        ),
        (
            ResponseParserError("Unable to parse response (no element found), invalid XML received.\nb''"),
            "what answers at http://127.0.0.1:8766 is not AWS (its answer is no AWS response): "
            "is it MiniStack's address?",
        ),
    ],
)
def test_aws_errors_say_what_to_do(monkeypatch, capsys, exc, message):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:8766")  # the demo site's port: not MiniStack
    _failing(monkeypatch, exc)
    assert main(["catalog", "check"]) == 1
    assert capsys.readouterr().err == f"policywatch: error: {message}\n"


def test_a_closed_pipe_is_not_an_error(monkeypatch):
    """`policywatch replay ... | head`: stderr is closed so the interpreter's flush at exit says nothing."""
    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    _failing(monkeypatch, BrokenPipeError())
    assert main(["catalog", "check"]) == 0
    assert stderr.closed


def test_a_catalog_lists_every_problem_under_one_error_line(tmp_path, capsys):
    bad = tmp_path / "catalog.json"
    bad.write_text(json.dumps({"platforms": [{"id": "x"}]}))
    assert main(["catalog", "check", "--file", str(bad)]) == 1
    first, *rest = capsys.readouterr().err.splitlines()
    assert first.startswith(f"policywatch: error: {bad}#platforms[0]: ")
    assert rest and all(line.startswith(f"  {bad}#platforms[0]: ") for line in rest)


def test_the_packaged_catalog_checks(capsys):
    assert main(["catalog", "check"]) == 0
    assert capsys.readouterr().out.startswith("ok: ")


def test_a_file_that_cannot_be_read_is_one_line(tmp_path, capsys):
    missing = tmp_path / "missing.json"
    assert main(["catalog", "check", "--file", str(missing)]) == 1
    assert capsys.readouterr().err == f"policywatch: error: cannot read {missing}: No such file or directory\n"
