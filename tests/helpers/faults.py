"""AWS failing at the worst moment: faults injected at the client boundary, as an outage would answer.

botocore's ``before-parameter-build`` event raises the error AWS would answer, on the clients the
code uses; policywatch's own classes are never replaced.
"""

from __future__ import annotations

from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from botocore.exceptions import ClientError

from policywatch.storage import clients as aws


class Faults:
    """Make AWS calls fail as an outage would, at the client boundary."""

    def __init__(self) -> None:
        self.injected: list[str] = []

    def fail(
        self,
        service: str,
        operation: str,
        *,
        when: Callable[[dict[str, Any]], bool] = lambda params: True,
        times: int = 1,
        skip: int = 0,
        code: str = "ServiceUnavailable",
        sender: bool = False,
    ) -> None:
        """Fail the next ``times`` calls of ``operation`` matching ``when``, after letting ``skip`` of them through,
        with the error ``code``; ``sender``: on the paced sends' client (``clients.sender``)."""
        state = {"skip": skip, "times": times}

        def hook(params: dict[str, Any], **_: Any) -> None:
            if not state["times"] or not when(params):
                return
            if state["skip"]:
                state["skip"] -= 1
                return
            state["times"] -= 1
            self.injected.append(operation)
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, operation)

        client = aws.sender(service) if sender else aws.client(service)
        client.meta.events.register(f"before-parameter-build.{service}.{operation}", hook)


def delivery_update(prefix: str) -> Callable[[dict[str, Any]], bool]:
    """Matches a deliveries-table update whose expression starts with ``prefix`` (e.g. ``SET #s = :retrying``)."""
    return lambda params: params.get("TableName") == "deliveries" and params["UpdateExpression"].startswith(prefix)


def answer_with_error(service: str, operation: str, status: int, code: str, message: str | None = None) -> None:
    """AWS answers every ``operation`` on policywatch's client with an HTTP ``status`` error ``code`` (the message
    is the code unless given), as S3 answers 403 for a missing key to a reader that may not list the bucket."""

    def answer(**_: Any) -> tuple[SimpleNamespace, dict[str, Any]]:
        return SimpleNamespace(status_code=status, headers={}), {
            "Error": {"Code": code, "Message": code if message is None else message},
            "ResponseMetadata": {"HTTPStatusCode": status},
        }

    aws.client(service).meta.events.register(
        f"before-call.{service}.{operation}", answer, unique_id=f"test-{operation}"
    )
