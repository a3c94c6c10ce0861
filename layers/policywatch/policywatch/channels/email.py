"""Email through SES."""

from __future__ import annotations

from policywatch import aws


def send_email(sender: str, recipient: str, subject: str, text: str, html: str) -> str:
    """Send one email; returns the SES message id."""
    response = aws.client("ses").send_email(
        Source=sender,
        Destination={"ToAddresses": [recipient]},
        Message={
            "Subject": {"Data": subject, "Charset": "UTF-8"},
            "Body": {"Text": {"Data": text, "Charset": "UTF-8"}, "Html": {"Data": html, "Charset": "UTF-8"}},
        },
    )
    return response["MessageId"]
