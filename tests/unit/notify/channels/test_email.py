"""The email channel: the MIME message (multipart, one-click unsubscribe headers) and sending through SES."""

from __future__ import annotations

import email
from email import policy

from policywatch.messages.render import alert_email, alert_sms
from policywatch.notify.channels.email import build_message, send_email
from policywatch.notify.channels.sms import send_sms
from policywatch.storage.outbound import Mailer, SmsSender
from policywatch.subscribers.tiers import tier
from tests.helpers.messages import LINKS, UNSUBSCRIBE


def test_build_message_is_multipart_alternative_with_one_click_unsubscribe(change):
    mail = alert_email(change, tier("professional"), LINKS)
    raw = build_message("policywatch <alerts@policywatch.example>", "reader@example.com", mail, UNSUBSCRIBE)
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert all(part.get_content_charset() == "utf-8" for part in parsed.iter_parts())
    assert parsed["From"] == "policywatch <alerts@policywatch.example>" and parsed["To"] == "reader@example.com"
    assert parsed["Subject"] == mail.subject and parsed["Date"] is not None
    assert parsed["Message-ID"].endswith("@policywatch.example>")
    assert parsed["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text, html = (part.get_content() for part in parsed.iter_parts())
    assert UNSUBSCRIBE in text and "We [-will not-] {+may+}" in text and "§1798.100" in text
    assert "s=sub-1&amp;t=tok-1" in html and mail.marker not in html + text


def test_a_real_length_unsubscribe_link_stays_a_plain_header_line(change):
    """Providers read List-Unsubscribe literally: folded into an RFC 2047 encoded word, it is no link."""
    url = LINKS.unsubscribe("sub_5f2c0e9a1b7d4c3e", "Zk3qYw1bX8vT2mR9sL4pN7cH6dJ0aE5u")
    raw = build_message(
        "alerts@policywatch.example", "reader@example.com", alert_email(change, tier("watcher"), LINKS), url
    )
    assert f"\r\nList-Unsubscribe: <{url}>\r\n".encode() in raw


def test_build_message_without_unsubscribe_url_has_no_list_headers(change):
    raw = build_message(
        "alerts@policywatch.example", "reader@example.com", alert_email(change, tier("watcher"), LINKS), None
    )
    parsed = email.message_from_bytes(raw, policy=policy.default)
    assert parsed["List-Unsubscribe"] is None and parsed["List-Unsubscribe-Post"] is None
    assert "ask to unsubscribe" in parsed.get_body(("plain",)).get_content()


def test_send_email_through_ses(change, monkeypatch):
    from moto import mock_aws

    from policywatch.storage import clients as aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        aws.reset()
        try:
            aws.client("ses").verify_email_identity(EmailAddress="alerts@policywatch.example")
            mail = alert_email(change, tier("professional"), LINKS)
            message_id = send_email(Mailer(), "alerts@policywatch.example", "reader@example.com", mail, UNSUBSCRIBE)
            assert message_id
            assert aws.client("ses").get_send_quota()["SentLast24Hours"] > 0
            assert send_sms(SmsSender(), "+15555550100", alert_sms(change, LINKS))
        finally:
            aws.reset()
