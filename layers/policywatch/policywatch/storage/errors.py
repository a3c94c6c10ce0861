"""AWS failures as policywatch errors: the stages above never see botocore.

Every public method of a storage adapter raises ``StorageError`` (a ``TransientError``: worth
retrying) in place of botocore's ``ClientError`` or ``BotoCoreError``, keeping the operation,
AWS's error code and its message (AWS error messages hold no secrets).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from policywatch.core.errors import TransientError

MISSING = frozenset({"404", "NoSuchKey", "NotFound", "ResourceNotFoundException"})
FORBIDDEN = frozenset({"403", "AccessDenied", "AccessDeniedException", "Forbidden"})


class StorageError(TransientError):
    """An AWS call failed: ``operation`` and ``code`` say which and how ("ListObjectsV2", "AccessDenied")."""

    def __init__(self, operation: str, code: str, message: str) -> None:
        super().__init__(f"{operation} {code}" + (f": {message}" if message and message != code else ""))
        self.operation, self.code, self.aws_message = operation, code, message

    @property
    def missing(self) -> bool:
        return self.code in MISSING

    @property
    def forbidden(self) -> bool:
        return self.code in FORBIDDEN

    def reason(self, doing: str = "") -> str:
        """One line: operation, code, what was being done, then the message (so a cut keeps the head)."""
        message = "" if self.aws_message == self.code else self.aws_message
        text = (
            f"{self.operation} {self.code}" + (f" while {doing}" if doing else "") + (f": {message}" if message else "")
        )
        return " ".join(text.split())[:300]


def storage_error(error: ClientError | BotoCoreError) -> StorageError:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        code = str(details.get("Code") or "error")
        return StorageError(error.operation_name, code, str(details.get("Message") or ""))
    return StorageError(type(error).__name__, "unavailable", str(error))


def translated[F: Callable[..., Any]](method: F) -> F:
    if inspect.isgeneratorfunction(method):

        @functools.wraps(method)
        def each(*args: Any, **kwargs: Any) -> Any:
            try:
                yield from method(*args, **kwargs)
            except (ClientError, BotoCoreError) as error:
                raise storage_error(error) from error

        return each  # type: ignore[return-value]

    @functools.wraps(method)
    def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise storage_error(error) from error

    return call  # type: ignore[return-value]


def adapter[C: type](cls: C) -> C:
    """Class decorator: every public method of a storage adapter raises StorageError for AWS failures."""
    for name, member in list(vars(cls).items()):
        if callable(member) and not name.startswith("_") and not isinstance(member, (staticmethod, classmethod, type)):
            setattr(cls, name, translated(member))
    return cls
