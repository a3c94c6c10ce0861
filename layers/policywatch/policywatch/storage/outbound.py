"""What leaves through AWS to a person: email through SES, SMS through SNS, each paced.

With a ``SendRate`` (``storage.sendrate``) each send waits for its slot in the account's shared
schedule first; a throttling answer from SES or SNS slows that schedule down for every instance
and the same send waits for a later slot, up to ``MAX_THROTTLED`` times (or the deadline): a
throttled send is delayed, not failed. The send clients make one attempt each (botocore's own
retries would wait apart from the shared schedule); any other error is the caller's to handle.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import ClientError

from policywatch.storage import clients
from policywatch.storage.errors import adapter
from policywatch.storage.sendrate import NoSendSlot, SendRate

# What SES (Query and v2 APIs) and SNS answer when a send exceeds the account's rate.
THROTTLED = frozenset({"Throttling", "ThrottlingException", "TooManyRequestsException", "ThrottledException"})
MAX_THROTTLED = 8  # throttling answers one send waits out (each slows everyone down a second)


@dataclass
class Paced:
    """A send rate and the moment (``time.monotonic()``) after which no send starts."""

    rate: SendRate | None = None
    deadline: float | None = None
    _held: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    def wait(self) -> None:
        """Wait for a send slot now, for this thread's next send (NoSendSlot if none comes before the deadline).

        The fan-out waits before it claims a delivery, so that a claim is sent at once: a delivery
        claimed and then left waiting would be lost with its instance (``interrupted``).
        """
        if self.rate is not None:
            self.rate.wait(self.deadline)
            self._held.slot = True

    def send(self, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        refused = 0
        while True:
            if getattr(self._held, "slot", False):
                self._held.slot = False  # taken by wait() for this send
            elif self.rate is not None:
                self.rate.wait(self.deadline)
            try:
                return call()
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") not in THROTTLED or self.rate is None:
                    raise
                refused += 1
                if refused > MAX_THROTTLED:
                    raise NoSendSlot(f"{self.rate.channel}: throttled {refused} times in a row") from None
                self.rate.slow_down()


@adapter
class Mailer:
    """SES: raw MIME messages (only a raw message carries List-Unsubscribe headers)."""

    def __init__(self, pacing: Paced | None = None) -> None:
        self.pacing = pacing or Paced()

    def send_raw(self, source: str, recipient: str, message: bytes) -> str:
        """Send one message; returns SES's message id."""
        ses = clients.sender("ses") if self.pacing.rate else clients.client("ses")
        response = self.pacing.send(
            lambda: ses.send_raw_email(Source=source, Destinations=[recipient], RawMessage={"Data": message})
        )
        return str(response["MessageId"])


@adapter
class SmsSender:
    """SNS: transactional SMS to a phone number, sent under one sender id."""

    SENDER_ID = "policywtch"  # at most 11 characters

    def __init__(self, pacing: Paced | None = None) -> None:
        self.pacing = pacing or Paced()

    def send(self, phone: str, text: str) -> str:
        """Send one SMS; returns SNS's message id."""
        sns = clients.sender("sns") if self.pacing.rate else clients.client("sns")
        response = self.pacing.send(
            lambda: sns.publish(
                PhoneNumber=phone,
                Message=text,
                MessageAttributes={
                    "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                    "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self.SENDER_ID},
                },
            )
        )
        return str(response["MessageId"])


def account_send_rate() -> float:
    """SES's maximum send rate for this account and region (GetSendQuota), per second."""
    return float(clients.client("ses").get_send_quota()["MaxSendRate"])
