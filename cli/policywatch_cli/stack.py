"""Plumbing the command groups share: the deployed stack, the one-line error, reading the operator's files.

A stack is found by its CloudFormation outputs (``--stack``, default ``policywatch``) at the
endpoint boto3 is configured for (``AWS_ENDPOINT_URL`` for MiniStack); its functions are invoked
through Lambda.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from policywatch.core.errors import InputError
from policywatch.storage import clients as aws
from policywatch.storage.archive import Archive
from policywatch.storage.subscribers import Subscribers

type Out = Callable[[str], None]  # where a command prints its lines: print, or a list's append in tests
type Commands = argparse._SubParsersAction[argparse.ArgumentParser]  # what each group's register adds to


class CliError(InputError):
    """An error to show the operator as one line."""


class Stack:
    """A deployed policywatch stack, known by its outputs."""

    def __init__(self, name: str) -> None:
        self.name = name

    @cached_property
    def outputs(self) -> dict[str, str]:
        try:
            stacks = aws.client("cloudformation").describe_stacks(StackName=self.name)["Stacks"]
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


def read_bytes(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def read_text(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror}") from None


def tally(statuses: Iterable[str], order: Sequence[str]) -> str:
    """ "1 pending, 2 active": statuses in ``order`` (their lifecycle), any other after them."""
    counts = Counter(statuses)
    ranked = sorted(counts, key=lambda s: order.index(s) if s in order else len(order))
    return ", ".join(f"{counts[s]} {s}" for s in ranked)
