"""EventBridge Scheduler one-time schedules: the reminders before a change takes effect.

All of a stack's reminders live in its own schedule group. A schedule's name starts with a
short hash of its document (``document_prefix``), so a document's pending reminders are found
by listing the group by name prefix, and the same reminder always gets the same name (creating
it again is a conflict, not a second reminder).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError

from policywatch.storage import clients as aws
from policywatch.storage.errors import adapter


def document_prefix(document_key: str) -> str:
    """``claude-ai/privacy-policy`` -> ``a1b2c3d4e5f6-``: 12 hex digits of its SHA-256, then a dash."""
    return hashlib.sha256(document_key.encode()).hexdigest()[:12] + "-"


@dataclass(frozen=True)
class Reminder:
    """One reminder to schedule: ``days_before`` the effective date, at ``at`` (UTC, whole seconds)."""

    document_key: str  # "{platform}/{document}"
    effective_date: str  # "YYYY-MM-DD"
    days_before: int
    at: datetime
    record_key: str

    @property
    def name(self) -> str:
        """``a1b2c3d4e5f6-2025-09-28-7d``: 29 characters (Scheduler allows 64)."""
        return f"{document_prefix(self.document_key)}{self.effective_date}-{self.days_before}d"

    @property
    def expression(self) -> str:
        return f"at({self.at:%Y-%m-%dT%H:%M:%S})"

    @property
    def input(self) -> dict[str, object]:
        return {"record_key": self.record_key, "days_before": self.days_before}


@adapter
class Schedules:
    """The stack's reminder schedule group; each schedule invokes ``target_arn`` as ``role_arn``."""

    def __init__(self, group: str, target_arn: str, role_arn: str) -> None:
        self.group, self.target_arn, self.role_arn = group, target_arn, role_arn

    def schedule(self, reminder: Reminder) -> bool:
        """Create the reminder's one-time schedule (deleted once it has fired); False if it exists already."""
        try:
            aws.client("scheduler").create_schedule(
                Name=reminder.name,
                GroupName=self.group,
                ScheduleExpression=reminder.expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target={
                    "Arn": self.target_arn,
                    "RoleArn": self.role_arn,
                    "Input": json.dumps(reminder.input),
                    "RetryPolicy": {"MaximumRetryAttempts": 5},
                },
                Description=f"Reminder: {reminder.document_key} takes effect {reminder.effective_date}",
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConflictException":
                return False
            raise
        return True

    def names(self, document_key: str) -> Iterator[str]:
        """The names of ``document_key``'s pending reminders."""
        request = {"GroupName": self.group, "NamePrefix": document_prefix(document_key)}
        while True:
            answer = aws.client("scheduler").list_schedules(**request)
            for schedule in answer.get("Schedules", []):
                yield schedule["Name"]
            if not answer.get("NextToken"):
                return
            request["NextToken"] = answer["NextToken"]

    def cancel_document(self, document_key: str) -> list[str]:
        """Delete every pending reminder of ``document_key``; the names deleted (one gone already is skipped)."""
        deleted = []
        for name in list(self.names(document_key)):
            try:
                aws.client("scheduler").delete_schedule(Name=name, GroupName=self.group)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                    raise
                continue  # fired (and deleted itself) meanwhile
            deleted.append(name)
        return deleted
