"""`python -m devstack.outbox`: what MiniStack recorded of the emails and SMS sent (once `policywatch outbox`)."""

from __future__ import annotations

import json

import pytest

from devstack.outbox import main, outbox

SES = {
    "messages": {
        "000000000000": [
            {"To": ["b@example.com"], "Subject": "second", "BodyText": "two\nlines", "Timestamp": 2},
            {"To": ["a@example.com", "c@example.com"], "Subject": "first", "BodyText": "one", "Timestamp": 1},
        ]
    }
}
SNS = {"sms_messages": {"000000000000": [{"PhoneNumber": "+14155550100", "Message": "policywatch: HIGH"}]}}


@pytest.fixture
def ministack(httpserver, monkeypatch):
    httpserver.expect_request("/_ministack/ses/messages").respond_with_json(SES)
    httpserver.expect_request("/_ministack/sns/sms-messages").respond_with_json(SNS)
    monkeypatch.setenv("AWS_ENDPOINT_URL", httpserver.url_for("/"))
    return httpserver


def test_emails_oldest_first_and_sms(ministack):
    emails, sms = outbox(ministack.url_for("/"))
    assert [m["Subject"] for m in emails] == ["first", "second"]
    assert sms == SNS["sms_messages"]["000000000000"]


def test_the_listing(ministack, capsys):
    assert main([]) == 0
    assert capsys.readouterr().out == (
        "2 email(s)\n"
        "  to a@example.com, c@example.com: first\n"
        "  to b@example.com: second\n"
        "1 SMS\n"
        "  to +14155550100: policywatch: HIGH\n"
    )


def test_full_prints_the_bodies_indented(ministack, capsys):
    assert main(["--full"]) == 0
    assert "  to b@example.com: second\n    two\n    lines\n1 SMS\n" in capsys.readouterr().out


def test_json(ministack, capsys):
    assert main(["--json"]) == 0
    box = json.loads(capsys.readouterr().out)
    assert [m["Subject"] for m in box["emails"]] == ["first", "second"] and len(box["sms"]) == 1


def test_without_ministack_it_says_what_to_set(monkeypatch, capsys):
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    assert main([]) == 1
    assert capsys.readouterr().err == (
        "outbox: error: outbox shows what MiniStack recorded: set AWS_ENDPOINT_URL (source .local/env)\n"
    )


def test_an_endpoint_that_is_not_ministack_is_one_line(httpserver, monkeypatch, capsys):
    httpserver.expect_request("/_ministack/ses/messages").respond_with_data("<html>", content_type="text/html")
    monkeypatch.setenv("AWS_ENDPOINT_URL", httpserver.url_for("/"))
    assert main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"outbox: error: cannot read MiniStack's outbox at {httpserver.url_for('/').rstrip('/')}: ")
    assert len(err.splitlines()) == 1
