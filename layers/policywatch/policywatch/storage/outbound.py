"""What leaves through AWS to a person: email through SES, SMS through SNS."""

from __future__ import annotations

from policywatch.storage import clients
from policywatch.storage.errors import adapter


@adapter
class Mailer:
    """SES: raw MIME messages (only a raw message carries List-Unsubscribe headers)."""

    def send_raw(self, source: str, recipient: str, message: bytes) -> str:
        """Send one message; returns SES's message id."""
        response = clients.client("ses").send_raw_email(
            Source=source, Destinations=[recipient], RawMessage={"Data": message}
        )
        return response["MessageId"]


@adapter
class SmsSender:
    """SNS: transactional SMS to a phone number, sent under one sender id."""

    SENDER_ID = "policywtch"  # at most 11 characters

    def send(self, phone: str, text: str) -> str:
        """Send one SMS; returns SNS's message id."""
        response = clients.client("sns").publish(
            PhoneNumber=phone,
            Message=text,
            MessageAttributes={
                "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
                "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": self.SENDER_ID},
            },
        )
        return response["MessageId"]
