"""SMS through SNS direct publish, never more than ``MAX_SEGMENTS`` segments (``policywatch.messages.sms``)."""

from __future__ import annotations

from policywatch.core.errors import InternalError
from policywatch.messages.sms import MAX_SEGMENTS, segments
from policywatch.storage.outbound import SmsSender


def send_sms(texts: SmsSender, phone: str, text: str) -> str:
    """Send one transactional SMS of at most MAX_SEGMENTS segments; returns the SNS message id."""
    count = segments(text)
    if count > MAX_SEGMENTS:
        raise InternalError(f"SMS text takes {count} segments; at most {MAX_SEGMENTS} are sent")
    return texts.send(phone, text)
