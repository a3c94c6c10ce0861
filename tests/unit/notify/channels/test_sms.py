"""The SMS channel: a text longer than the segments allowed is refused before sending."""

from __future__ import annotations

import pytest

from policywatch.core.errors import InternalError
from policywatch.notify.channels.sms import send_sms
from policywatch.storage.outbound import SmsSender


def test_send_sms_refuses_more_than_two_segments():
    with pytest.raises(InternalError, match="3 segments"):
        send_sms(SmsSender(), "+15555550100", "a" * 307)
