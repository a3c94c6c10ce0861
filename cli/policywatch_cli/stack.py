"""Plumbing the command groups share: the deployed stack, the one-line error, reading the operator's files.

A stack is found by its CloudFormation outputs (``--stack``, default ``policywatch``) at the
endpoint boto3 is configured for (``AWS_ENDPOINT_URL`` for MiniStack); its functions are invoked
through Lambda. Before the first call to an endpoint of our own (MiniStack), one TCP connection
says whether anything listens there: a stack that is down is one line at once, not botocore's
retries and connect timeouts (11 to 24 s). AWS's own endpoints keep botocore's retries.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from botocore.exceptions import ClientError

from policywatch.core.errors import InputError
from policywatch.storage import clients as aws
from policywatch.storage.archive import Archive
from policywatch.storage.subscribers import Subscribers

type Out = Callable[[str], None]  # where a command prints its lines: print, or a list's append in tests
type Commands = argparse._SubParsersAction[argparse.ArgumentParser]  # what each group's register adds to

PROBE_SECONDS = 1.5  # a local endpoint answers a connect in milliseconds; a refused one fails at once
_AWS_DOMAINS = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


class CliError(InputError):
    """An error to show the operator as one line."""


class Stack:
    """A deployed policywatch stack, known by its outputs."""

    def __init__(self, name: str) -> None:
        self.name = name

    @cached_property
    def outputs(self) -> dict[str, str]:
        cloudformation = aws.client("cloudformation")
        check_reachable(cloudformation.meta.endpoint_url)
        try:
            stacks = cloudformation.describe_stacks(StackName=self.name)["Stacks"]
        except ClientError as exc:
            if "does not exist" in str(exc):
                where = os.environ.get("AWS_ENDPOINT_URL", "this AWS account")
                raise CliError(
                    f"no stack named {self.name!r} is deployed at {where} (run `make up` for a local one)"
                ) from None
            raise
        return {o["OutputKey"]: o["OutputValue"] for o in stacks[0].get("Outputs", [])}

    def output(self, key: str) -> str:
        try:
            return self.outputs[key]
        except KeyError:
            raise CliError(f"stack {self.name!r} has no output {key!r}: is it a policywatch stack?") from None

    def archive(self) -> Archive:
        return Archive(self.output("ArchiveBucketName"))

    def subscribers(self) -> Subscribers:
        return Subscribers(self.output("SubscribersTableName"))

    def invoke(self, output_key: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        """Invoke the function named by the output ``output_key``; its result, or a CliError with its error."""
        response = aws.client("lambda").invoke(
            FunctionName=self.output(output_key), Payload=json.dumps(payload or {}).encode()
        )
        result = json.loads(response["Payload"].read() or b"null")
        if response.get("FunctionError"):
            message = result.get("errorMessage", result) if isinstance(result, dict) else result
            raise CliError(f"{self.output(output_key)} failed: {message}")
        return result


def unreachable(endpoint: str) -> str:
    return f"cannot reach AWS at {endpoint}: is MiniStack running? (make up)"


def check_reachable(endpoint: str) -> None:
    """CliError when nothing listens at ``endpoint``, if it is one of our own (not AWS's, not behind a proxy)."""
    url = urlsplit(endpoint)
    host = url.hostname or ""
    if not host or host.endswith(_AWS_DOMAINS):
        return
    if urllib.request.getproxies().get(url.scheme) and not urllib.request.proxy_bypass(url.netloc):
        return  # botocore goes through the proxy: a direct connection says nothing
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((host, port), timeout=PROBE_SECONDS).close()
    except OSError:
        raise CliError(unreachable(endpoint)) from None


def read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def read_text(path: str) -> str:
    """The file as UTF-8 text (a byte order mark allowed), or a CliError naming it and what it holds instead."""
    data = read_bytes(path)
    if binary := binary_kind(data):
        raise CliError(f"{path}: binary data, not text ({binary})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise CliError(
            f"{path}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line}, offset {exc.start}): "
            "save or convert it as UTF-8"
        ) from None


def binary_kind(data: bytes, *, nul: bool = True) -> str | None:
    """What a file that is no text holds ("a PNG image", or with ``nul`` "a NUL byte at offset 8"), or None."""
    kind = next((kind for signature, kind in _BINARY.items() if data.startswith(signature)), None)
    at = data.find(b"\0", 0, 8000) if nul else -1  # as git and grep tell binary files: text has no NUL byte
    return kind or (f"a NUL byte at offset {at}" if at >= 0 else None)


_BINARY = {b"\x89PNG": "a PNG image", b"\xff\xd8\xff": "a JPEG image", b"GIF8": "a GIF image",
           b"%PDF-": "a PDF", b"PK\x03\x04": "a zip archive"}  # fmt: skip


def tally(statuses: Iterable[str], order: Sequence[str]) -> str:
    """ "1 pending, 2 active": statuses in ``order`` (their lifecycle), any other after them."""
    counts = Counter(statuses)
    ranked = sorted(counts, key=lambda s: order.index(s) if s in order else len(order))
    return ", ".join(f"{counts[s]} {s}" for s in ranked)
