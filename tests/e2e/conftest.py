"""The deployed stack on a MiniStack of the test session's own: free port, temporary state.

Policy pages are real (../shared/corpus: Open Terms Archive GenAI collection, ODC-By 1.0),
served by a real HTTP server on loopback; the stack is driven from outside with the
``policywatch`` command and boto3, exactly as an operator would.
"""

from __future__ import annotations

import functools
import http.server
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from pytest_httpserver import HTTPServer

from devstack.edge import Edge
from devstack.ministack import ROOT, VENV_BIN, MiniStack, build, chromium_path, deploy, free_port, verify_sender
from devstack.outbox import outbox

SENDER = "alerts@policywatch.test"
STACK = "policywatch-e2e"


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@dataclass
class Deployed:
    ministack: MiniStack
    env: dict[str, str]
    outputs: dict[str, str]
    build_dir: Path
    site_url: str  # the site through CloudFront (devstack/edge.py): the stack's PublicBaseUrl

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.ministack.endpoint,
            region_name=self.env["AWS_REGION"],
            aws_access_key_id="test",
            aws_secret_access_key="test",
        )

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [str(VENV_BIN / "policywatch"), "--stack", STACK, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(f"policywatch {' '.join(args)} failed: {result.stderr}")
        return result

    def function_url(self, url: str) -> str:
        """A Lambda function URL as MiniStack serves it (path-based: no wildcard DNS needed)."""
        url_id, _, rest = url.removeprefix("https://").partition(".lambda-url.")
        return f"{self.ministack.endpoint}/_aws/lambda-url/{url_id}/{rest.partition('/')[2]}"

    def outbox(self) -> dict[str, list[dict[str, Any]]]:
        emails, sms = outbox(self.ministack.endpoint)
        return {"emails": emails, "sms": sms}


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[HTTPServer]:
    """A subscriber's webhook endpoint on loopback; the stack allowlists it for plain http."""
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def site_port() -> int:
    """The policy site's port, fixed for the session: the stack allowlists it for the fetcher."""
    return free_port()


@pytest.fixture(scope="session")
def deployed(tmp_path_factory, webhook_receiver, site_port) -> Iterator[Deployed]:
    ministack = MiniStack(free_port(), tmp_path_factory.mktemp("ministack"))
    edge_port = free_port()
    edge = None
    try:
        ministack.start()
        env = ministack.env()
        build_dir = build(env, ROOT / ".aws-sam" / "e2e" / "build")
        parameters = {
            "SenderEmail": SENDER,
            "SchedulesState": "DISABLED",
            "WebhookHttpAllowlist": f"127.0.0.1:{webhook_receiver.port}",
            "FetchAllowlist": f"127.0.0.1:{site_port}",
            "ArchiveRequiresTls": "false",  # MiniStack's Lambdas reach it over plain http
            "DeliveryBackoffSeconds": "1",
            "ChromiumPath": chromium_path(),
            "RenderPageSeconds": "8",  # the never-settling page fails this fast
            "PublicBaseUrl": f"http://127.0.0.1:{edge_port}",
        }
        outputs = deploy(env, STACK, build_dir, parameters)
        verify_sender(env, SENDER)
        edge = Edge(ministack.endpoint, outputs["SiteDomainName"], edge_port).start()
        yield Deployed(ministack, env, outputs, build_dir, edge.url)
    finally:
        if edge is not None:
            edge.stop()
        ministack.stop()  # even when a test, the build or the deploy failed


class PolicySite:
    """A directory served on loopback; pages are swapped between sweeps."""

    def __init__(self, root: Path, port: int = 0) -> None:
        self.root = root
        handler = functools.partial(_QuietHandler, directory=str(root))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def site(tmp_path, site_port) -> Iterator[PolicySite]:
    site = PolicySite(tmp_path / "site", site_port)
    yield site
    site.server.shutdown()
    site.server.server_close()  # the next test serves on the same port
