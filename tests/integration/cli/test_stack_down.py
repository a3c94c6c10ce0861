"""Every command that calls AWS, against a stack that is down (nothing listens at AWS_ENDPOINT_URL):
one line at once, from a TCP connection, never after botocore's retries and connect timeouts."""

from __future__ import annotations

import argparse
import json
import socket

import pytest

from devstack import demo_site
from policywatch.storage import clients as aws
from policywatch_cli import stack as stack_module
from policywatch_cli.main import build_parser, main

STACK_COMMANDS = [
    ["catalog", "show"],
    ["catalog", "use", "CATALOG"],
    ["catalog", "reset"],
    ["subscribers", "add", "--email", "ana@example.com", "--tier", "free", "--platform", "anthropic"],
    ["subscribers", "update", "sub_0123456789abcdef", "--digest"],
    ["subscribers", "tier", "sub_0123456789abcdef", "watcher"],
    ["subscribers", "list"],
    ["subscribers", "show", "sub_0123456789abcdef"],
    ["subscribers", "remove", "sub_0123456789abcdef"],
    ["subscribers", "confirm", "sub_0123456789abcdef"],
    ["subscribers", "unsubscribe", "sub_0123456789abcdef"],
    ["deliveries", "656bb2048af0581b2c7b637b"],
    ["deliveries", "http://127.0.0.1:8767/changes/anthropic/privacy-policy/2025-08-29T003202.123Z"],
    ["sweep"],
    ["redrive", "diff"],
    ["digest"],
    ["status"],
    ["reextract"],
    ["accept", "anthropic/privacy-policy"],
    ["site", "rebuild"],
    ["subscribers", "reindex"],
    ["chain"],
    ["checkpoint"],
    ["evidence", "anthropic/privacy-policy", "-o", "pack.zip"],
]


@pytest.fixture
def closed_port() -> int:
    """A local port nothing listens on (it was bound a moment ago, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def down(monkeypatch, closed_port, tmp_path) -> str:
    endpoint = f"http://127.0.0.1:{closed_port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "catalog.json").write_text(json.dumps(demo_site.catalog("http://127.0.0.1:8766")))
    monkeypatch.chdir(tmp_path)
    aws.reset()
    yield endpoint
    aws.reset()


@pytest.mark.parametrize("argv", STACK_COMMANDS, ids=" ".join)
def test_a_stack_that_is_down_is_one_line(down, capsys, argv):
    argv = [a.replace("CATALOG", "catalog.json") for a in argv]
    sent: list[str] = []  # the request botocore would make: none, the probe answered first
    aws.client("cloudformation").meta.events.register("before-send", lambda request, **_: sent.append(request.url))
    assert main(argv) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == f"policywatch: error: cannot reach AWS at {down}: is MiniStack running? (make up)\n"
    assert sent == []


def _paths(parser: argparse.ArgumentParser, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [path]
    return [found for name, sub in subparsers[0].choices.items() for found in _paths(sub, (*path, name))]


def test_every_command_that_calls_aws_is_tried():
    """A command added later belongs in STACK_COMMANDS unless it needs no stack."""
    no_stack = {("catalog", "check"), ("diff",), ("replay",), ("extract",), ("verify",)}
    for path in _paths(build_parser()):
        assert path in no_stack or any(tuple(argv[: len(path)]) == path for argv in STACK_COMMANDS), path


def test_aws_endpoints_and_proxied_ones_are_not_probed(monkeypatch):
    """AWS's own endpoints keep botocore's retries; behind a proxy a direct connection would say nothing."""

    def refuse(*args, **kwargs):
        raise AssertionError("probed")

    monkeypatch.setattr(socket, "create_connection", refuse)
    stack_module.check_reachable("https://cloudformation.us-east-1.amazonaws.com")
    stack_module.check_reachable("https://vpce-0a1b.cloudformation.us-east-1.vpce.amazonaws.com")
    monkeypatch.setenv("HTTP_PROXY", "http://proxy.internal:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    stack_module.check_reachable("http://ministack.internal:4566")


def test_a_stack_that_is_up_is_probed_and_used(monkeypatch):
    with socket.socket() as listening:
        listening.bind(("127.0.0.1", 0))
        listening.listen()
        stack_module.check_reachable(f"http://127.0.0.1:{listening.getsockname()[1]}")  # no error
