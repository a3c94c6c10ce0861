"""SMS through SNS direct publish."""

from __future__ import annotations

from policywatch import aws


def send_sms(phone: str, text: str) -> str:
    """Send one transactional SMS; returns the SNS message id."""
    response = aws.client("sns").publish(
        PhoneNumber=phone,
        Message=text,
        MessageAttributes={
            "AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"},
            "AWS.SNS.SMS.SenderID": {"DataType": "String", "StringValue": "policywtch"},
        },
    )
    return response["MessageId"]
