"""Which send rates this function's sends keep to: SES's account quota and the SMS rate, capped by settings.

The ``SendRate`` objects live as long as the function instance, so the slots one invocation
reserved and did not use serve the next. The SES quota is read from the account (GetSendQuota)
once every ``QUOTA_TTL_SECONDS``: raising it at AWS speeds every instance up within minutes,
without a deploy.
"""

from __future__ import annotations

import threading
import time

from aws_lambda_powertools import Logger

from policywatch.notify.settings import ChannelSettings
from policywatch.storage.errors import StorageError
from policywatch.storage.outbound import Paced, account_send_rate
from policywatch.storage.sendrate import SendRate

logger = Logger(child=True)

QUOTA_TTL_SECONDS = 600
FALLBACK_EMAIL_RATE = 14.0  # SES's quota for a new production account, if the account's cannot be read

_lock = threading.Lock()
_rates: dict[tuple[str, str, float], SendRate] = {}
_quota: tuple[float, float] | None = None  # (rate, read at)


def email_rate(cap: float) -> float:
    """The SES rate to keep to: the account's quota, or ``cap`` if that is lower (0: no cap)."""
    global _quota
    if _quota is None or time.monotonic() - _quota[1] > QUOTA_TTL_SECONDS:
        try:
            _quota = (account_send_rate(), time.monotonic())
        except StorageError as exc:
            logger.warning("could not read SES's send quota", extra={"error": str(exc)})
            _quota = (_quota[0] if _quota else FALLBACK_EMAIL_RATE, time.monotonic())
    return min(_quota[0], cap) if cap > 0 else _quota[0]


def _rate(table: str, channel: str, per_second: float) -> SendRate:
    with _lock:
        key = (table, channel, per_second)
        if key not in _rates:
            _rates[key] = SendRate(table, channel, per_second)
        return _rates[key]


def pacing(config: ChannelSettings, deadline: float | None) -> tuple[Paced, Paced]:
    """(email, SMS) pacing for one invocation; unpaced without a send-rate table."""
    if not config.send_rate_table:
        return Paced(deadline=deadline), Paced(deadline=deadline)
    email = _rate(config.send_rate_table, "ses", email_rate(config.email_send_rate))
    sms = _rate(config.send_rate_table, "sns-sms", config.sms_send_rate)
    return Paced(email, deadline), Paced(sms, deadline)
