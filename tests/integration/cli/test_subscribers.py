"""`policywatch subscribers ...` and `policywatch deliveries` against moto, through a stack's outputs."""

from __future__ import annotations

import json
import re
import socket
from dataclasses import replace

import boto3
import pytest

from devstack.tables import create_tables
from policywatch.storage import secrets
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.fanouts import FanOuts, PageKey
from policywatch.storage.subscribers import Subscribers
from policywatch.subscribers import entitlement
from policywatch_cli.main import main
from tests.helpers.notify import emails
from tests.integration.cli.conftest import REGION, create_stack

BUCKET = "policywatch-archive-123456789012-us-east-1"
BASE_URL = "https://pw.example.com/"
SENDER = "alerts@pw.example.com"
pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")

SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # base64 of 24 bytes


@pytest.fixture
def stack(mocked_aws, monkeypatch):
    real = socket.getaddrinfo

    def public_dns(host, port, *args, **kwargs):
        """Webhook hosts are resolved when an endpoint is written: the examples' answer a public address."""
        if str(host).endswith("example.com"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", public_dns)
    boto3.client("s3", region_name=REGION).create_bucket(Bucket=BUCKET)  # no override: packaged catalog
    create_tables(
        boto3.client("dynamodb", region_name=REGION),
        {"SubscribersTable": "subscribers", "DeliveriesTable": "deliveries", "AccountsTable": "accounts"},
    )
    boto3.client("ses", region_name=REGION).verify_email_identity(EmailAddress=SENDER)
    site_secret = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="site-secret", SecretString="s" * 64
    )["ARN"]
    secrets.forget()
    self_service = {"AccountsTableName": "accounts", "SiteSecretArn": site_secret, "SenderEmail": SENDER}
    outputs = {
        "SubscribersTableName": "subscribers",
        "DeliveriesTableName": "deliveries",
        "ArchiveBucketName": BUCKET,
    }
    create_stack(
        "policywatch",
        outputs | self_service | {"PublicBaseUrl": BASE_URL, "WebhookHttpAllowlist": "receiver:8080"},
    )
    create_stack("no-web", outputs | {"WebhookHttpAllowlist": "-"})


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def add(capsys, *argv: str) -> tuple[str, str]:
    """Add a subscriber; its id and what the command printed."""
    code, out, err = run(capsys, "subscribers", "add", *argv)
    assert (code, err) == (0, "")
    return re.search(r"^added (sub_[0-9a-f]+)", out, re.M).group(1), out


def error(capsys, *argv: str) -> str:
    code, out, err = run(capsys, *argv)
    assert code == 1 and out == "" and err.count("\n") == 1 and "Traceback" not in err
    return err.removeprefix("policywatch: error: ").rstrip("\n")


# ---------------------------------------------------------------- add


def test_add_creates_a_pending_subscriber_and_prints_its_unsubscribe_link(stack, capsys):
    sid, out = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic",
                   "--platform", "openai", "--phone", "+1 (415) 555-0123")  # fmt: skip
    assert "pending: nothing but the confirmation is sent until its owner confirms" in out
    assert "confirmation e-mail sent to j***@example.com (its link works once, for 24 hours)" in out
    [sent] = emails()
    assert sent["mime"]["Subject"] == "Confirm your policywatch subscription" and "jane@example.com" in sent["to"]
    assert f"{BASE_URL}confirm?t=" in sent["text"] and "Anthropic" in sent["text"]
    assert "  tier       watcher\n  platforms  anthropic, openai\n" in out
    stored = Subscribers("subscribers").get(sid)
    assert (stored.status, stored.phone, stored.version) == ("pending", "+14155550123", 1)
    link = f"{BASE_URL}unsubscribe?s={sid}&t={stored.unsubscribe_token}"
    assert f"  unsubscribe link  {link}\n" in out
    assert [s.subscriber_id for s in Subscribers("subscribers").watchers("openai")] == [sid]


def test_add_prints_each_webhook_secret_once_and_active_skips_confirmation(stack, capsys):
    sid, out = add(capsys, "--email", "ops@example.com", "--tier", "professional", "--platform", "anthropic",
                   "--webhook", "https://hooks.example.com/pw", "--webhook-secret", SECRET,
                   "--provision", "model-training", "--digest", "--sms-min-severity", "high", "--active")  # fmt: skip
    stored = Subscribers("subscribers").get(sid)
    endpoint = stored.webhooks[0]
    assert endpoint.secret == SECRET and stored.status == "active" and stored.digest
    assert (stored.provisions, stored.sms_min_severity) == (["model-training"], "high")
    assert f"added {sid} (active)" in out
    assert f"  webhook    {endpoint.endpoint_id}  https://hooks.example.com/pw\n" in out
    assert f"    secret   {SECRET}  (shown this once only" in out


def test_add_without_a_public_base_url_prints_no_link(stack, capsys):
    _, out = add(capsys, "--email", "a@example.com", "--tier", "free", "--platform", "openai")
    assert "unsubscribe link" in out
    code, out, err = run(capsys, "--stack", "no-web", "subscribers", "add", "--email", "b@example.com",
                         "--tier", "free", "--platform", "openai")  # fmt: skip
    assert code == 0 and err == "" and out.startswith("added sub_") and "unsubscribe" not in out


def test_add_errors_are_one_line(stack, capsys, monkeypatch):
    base = ["subscribers", "add", "--email", "a@example.com"]
    assert error(capsys, *base, "--tier", "free", "--platform", "anthropic", "--platform", "openai",
                 "--platform", "google") == "the Free tier watches 1 platform; 3 were given"  # fmt: skip
    assert error(capsys, *base, "--tier", "watcher", "--platform", "anthropic", "--phone", "+1 555 0100") == (
        "invalid phone number '+1 555 0100': use international E.164 form, e.g. +14155550123"
    )
    assert error(capsys, *base, "--tier", "free", "--platform", "nope").startswith("unknown platform 'nope'")
    assert error(capsys, "subscribers", "add", "--email", "not-an-email", "--tier", "free", "--platform",
                 "openai") == "invalid email address 'not-an-email'"  # fmt: skip
    pro = [*base, "--tier", "professional", "--platform", "anthropic"]
    assert error(capsys, *pro, "--webhook", "http://hooks.example.com/pw") == (
        "webhook URL 'http://hooks.example.com/pw' must use https"
    )
    assert error(capsys, *pro, "--provision", "telepathy").startswith("unknown provision 'telepathy'")
    assert error(capsys, *base, "--tier", "watcher", "--platform", "openai", "--webhook",
                 "https://hooks.example.com/pw") == (
        "the Watcher tier has no webhooks; upgrade or leave out the webhook URL"
    )  # fmt: skip
    assert error(capsys, *pro, "--webhook", "https://a.example.com/", "--webhook", "https://b.example.com/",
                 "--webhook-secret", SECRET) == "--webhook-secret goes with exactly one --webhook"  # fmt: skip
    # The stack's WebhookHttpAllowlist output trusts receiver:8080 over plain http.
    sid, _ = add(capsys, *pro[2:], "--webhook", "http://receiver:8080/hook")
    assert Subscribers("subscribers").get(sid).webhooks[0].url == "http://receiver:8080/hook"
    assert Subscribers("subscribers").list() == [Subscribers("subscribers").get(sid)]  # nothing else was stored


# ---------------------------------------------------------------- list and show


def test_list_masks_emails_and_phones_and_never_prints_secrets(stack, capsys):
    jane, _ = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic",
                  "--phone", "+14155550123")  # fmt: skip
    ops, _ = add(capsys, "--email", "ops@example.org", "--tier", "professional", "--platform", "openai",
                 "--platform", "google", "--webhook", "https://hooks.example.com/pw", "--active")  # fmt: skip
    secrets = [Subscribers("subscribers").get(s).unsubscribe_token for s in (jane, ops)]
    secrets.append(Subscribers("subscribers").get(ops).webhooks[0].secret)

    code, out, _ = run(capsys, "subscribers", "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["SUBSCRIBER", "TIER", "STATUS", "EMAIL", "PHONE", "WEBHOOKS", "PLATFORMS"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:3]}  # by creation time, then id
    assert rows[jane] == ["watcher", "pending", "j***@example.com", "+1******0123", "0", "anthropic"]
    assert rows[ops] == ["professional", "active", "o***@example.org", "-", "1", "openai,", "google"]
    assert lines[3] == "2 subscribers (1 pending, 1 active)"

    code, listed, _ = run(capsys, "subscribers", "list", "--json")
    shown = {s["subscriber_id"]: s for s in json.loads(listed)}
    assert (shown[jane]["email"], shown[ops]["email"]) == ("j***@example.com", "o***@example.org")
    assert shown[jane]["phone"] == "+1******0123" and "phone" not in shown[ops]
    webhook = shown[ops]["webhooks"][0]
    assert webhook.keys() == {"endpoint_id", "url"} and webhook["url"] == "https://hooks.example.com/pw"
    for text in (out, listed):
        assert "jane@" not in text and "ops@" not in text and "4155550123" not in text
        assert not any(secret in text for secret in secrets) and "whsec_" not in text

    assert run(capsys, "subscribers", "list", "--tier", "professional")[1].count("sub_") == 1
    assert jane in run(capsys, "subscribers", "list", "--platform", "anthropic")[1]
    assert ops not in run(capsys, "subscribers", "list", "--status", "pending")[1]
    assert run(capsys, "subscribers", "list", "--status", "unsubscribed")[1] == "no subscribers match\n"


def test_an_empty_list(stack, capsys):
    assert run(capsys, "subscribers", "list") == (0, "no subscribers\n", "")
    assert run(capsys, "subscribers", "list", "--json") == (0, "[]\n", "")


def test_show_prints_one_subscriber_in_full_but_no_secret(stack, capsys):
    sid, _ = add(capsys, "--email", "jane@example.com", "--tier", "professional", "--platform", "anthropic",
                 "--phone", "+14155550123", "--webhook", "https://hooks.example.com/pw",
                 "--provision", "model-training")  # fmt: skip
    stored = Subscribers("subscribers").get(sid)
    code, out, _ = run(capsys, "subscribers", "show", sid)
    assert code == 0
    assert "email              jane@example.com\n" in out
    assert "phone              +14155550123 (SMS at severity medium and above)\n" in out
    assert "provisions         model-training (Model training on user content)\n" in out
    assert f"  {stored.webhooks[0].endpoint_id:<16} https://hooks.example.com/pw\n" in out
    code, shown, _ = run(capsys, "subscribers", "show", sid, "--json")
    assert json.loads(shown) == stored.public() and json.loads(shown)["email"] == "jane@example.com"
    for text in (out, shown):
        assert stored.webhooks[0].secret not in text and stored.unsubscribe_token not in text


def test_unknown_subscribers_are_one_line_for_every_command(stack, capsys):
    for action in ("show", "update", "remove", "confirm", "unsubscribe"):
        assert error(capsys, "subscribers", action, "sub_nope") == "no subscriber 'sub_nope'"


# ---------------------------------------------------------------- update


def test_update_applies_changes_prints_them_masked_and_keeps_watch_items_in_step(stack, capsys):
    sid, _ = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic",
                 "--platform", "openai", "--phone", "+14155550123")  # fmt: skip
    code, out, err = run(capsys, "subscribers", "update", sid, "--add-platform", "google", "--remove-platform",
                         "anthropic", "--email", "jane@example.org", "--no-phone", "--digest")  # fmt: skip
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"updated {sid}",
        "  email: j***@example.com -> j***@example.org",
        "  phone: +1******0123 -> -",
        "  platforms: anthropic, openai -> openai, google",
        "  digest: no -> yes",
    ]
    store = Subscribers("subscribers")
    stored = store.get(sid)
    assert (stored.email, stored.phone, stored.version) == ("jane@example.org", None, 2)
    assert [s.subscriber_id for s in store.watchers("google")] == [sid]
    assert list(store.watchers("anthropic")) == []
    assert run(capsys, "subscribers", "update", sid, "--platform", "openai", "--platform", "google")[1] == (
        f"{sid}: nothing to change\n"
    )


def test_update_refuses_what_the_tier_does_not_allow(stack, capsys):
    sid, _ = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic",
                 "--platform", "openai", "--platform", "google")  # fmt: skip
    assert error(capsys, "subscribers", "update", sid, "--tier", "free") == (
        f"the Free tier watches 1 platform; 3 were given (`policywatch subscribers tier {sid} free` changes "
        "the tier and keeps the rest for an upgrade)"
    )
    assert error(capsys, "subscribers", "update", sid, "--phone", "4155550123").startswith(
        "invalid phone number '4155550123'"
    )
    assert error(capsys, "subscribers", "update", sid, "--remove-platform", "xai") == f"{sid} does not watch 'xai'"
    assert error(capsys, "subscribers", "update", sid, "--add-webhook", "https://hooks.example.com/pw").startswith(
        "the Watcher tier has no webhooks"
    )
    assert Subscribers("subscribers").get(sid).version == 1  # nothing was written
    _, out, _ = run(capsys, "subscribers", "update", sid, "--tier", "free", "--platform", "google")
    assert "  tier: watcher -> free\n  platforms: anthropic, openai, google -> google\n" in out


def test_update_webhooks_and_provisions(stack, capsys):
    sid, _ = add(capsys, "--email", "ops@example.com", "--tier", "professional", "--platform", "anthropic",
                 "--webhook", "https://hooks.example.com/old")  # fmt: skip
    old = Subscribers("subscribers").get(sid).webhooks[0]
    assert error(capsys, "subscribers", "update", sid, "--add-webhook", "http://hooks.example.com/new") == (
        "webhook URL 'http://hooks.example.com/new' must use https"
    )
    assert (
        error(capsys, "subscribers", "update", sid, "--remove-webhook", "wh_nope") == f"{sid} has no webhook 'wh_nope'"
    )
    code, out, _ = run(capsys, "subscribers", "update", sid, "--add-webhook", "https://hooks.example.com/new",
                       "--remove-webhook", old.endpoint_id, "--provision", "model-training",
                       "--sms-min-severity", "low")  # fmt: skip
    new = Subscribers("subscribers").get(sid).webhooks
    assert code == 0 and [e.url for e in new] == ["https://hooks.example.com/new"]
    assert "  provisions: every change -> model-training\n" in out
    assert "  sms_min_severity: medium -> low\n" in out
    assert f"  webhook removed: {old.endpoint_id} https://hooks.example.com/old\n" in out
    assert f"  webhook    {new[0].endpoint_id}  https://hooks.example.com/new\n    secret   {new[0].secret}" in out
    assert old.secret not in out
    _, out, _ = run(capsys, "subscribers", "update", sid, "--no-provisions")
    assert "  provisions: model-training -> every change\n" in out


# ---------------------------------------------------------------- tier


def test_a_downgrade_says_what_stops_and_keeps_the_rest_for_an_upgrade(stack, capsys):
    sid, out = add(capsys, "--email", "ops@example.com", "--tier", "professional", "--platform", "anthropic",
                   "--platform", "openai", "--phone", "+14155550123", "--webhook", "https://hooks.example.com/pw",
                   "--provision", "model-training", "--active")  # fmt: skip
    endpoint = re.search(r"webhook    (wh_\w+)", out).group(1)
    store = Subscribers("subscribers")
    before = store.get(sid)

    code, out, err = run(capsys, "subscribers", "tier", sid, "free")
    assert (code, err) == (0, "")
    assert out == (
        f"{sid}: tier professional -> free\n"
        "What stops:\n"
        "  No more alerts about openai: the Free tier watches 1 platform, the first chosen (anthropic).\n"
        "  Same-day alerts stop: changes arrive only in the weekly digest, on Mondays.\n"
        "  SMS alerts stop: the Free tier sends none (the phone number is kept for an upgrade).\n"
        f"  Webhook deliveries stop to {endpoint} (hooks.example.com): the Free tier has no webhooks "
        "(the endpoints and their secrets are kept for an upgrade).\n"
        "  The provision filter stops (model-training): every change to the watched platforms reaches you, "
        "not only those.\n"
        "  Alerts no longer carry the regulatory mapping or a link to the Professional view, and the Professional "
        "links already sent stop opening it.\n"
        "  Alerts no longer carry the evidence (both versions' SHA-256 and archived copies); each change page "
        "still shows it.\n"
        "Kept for an upgrade, beyond the Free tier's limits: 2 platforms (1 allowed), a phone number, "
        "1 webhook endpoint, a provision filter.\n"
        "  Alerts already follow the tier; a later `subscribers update` must also bring these within it "
        "(--platform, --no-phone, --remove-webhook, --no-provisions).\n"
    )
    after = store.get(sid)
    assert after.tier == "free" and after.version == before.version + 1
    assert (after.platforms, after.phone, after.webhooks, after.provisions) == (
        before.platforms, before.phone, before.webhooks, before.provisions
    )  # fmt: skip
    # Fan-out reads the watch items, which follow the profile: the tier's limits apply from the next change.
    for platform, expected in (("anthropic", (False, ())), ("openai", None)):
        [watcher] = store.watchers(platform)
        granted = entitlement(watcher, {"platform": platform, "severity": "high", "categories": ["model-training"]})
        assert (granted and (granted.same_day, granted.channels)) == expected

    # An edit checks every limit: it must bring what was kept within the tier.
    assert error(capsys, "subscribers", "update", sid, "--email", "team@example.com").startswith(
        "the Free tier watches 1 platform; 2 were given"
    )
    assert run(capsys, "subscribers", "tier", sid, "professional")[1] == f"{sid}: tier free -> professional\n"
    restored = store.get(sid)
    assert (restored.platforms, restored.phone, restored.webhooks) == (before.platforms, before.phone, before.webhooks)
    [watcher] = store.watchers("openai")
    granted = entitlement(watcher, {"platform": "openai", "severity": "high", "categories": ["model-training"]})
    assert granted.channels == ("email", "sms", f"webhook:{endpoint}")


def test_a_tier_change_within_the_limits_keeps_nothing_beyond_them(stack, capsys):
    sid, _ = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic")
    assert run(capsys, "subscribers", "tier", sid, "free") == (
        0,
        f"{sid}: tier watcher -> free\nWhat stops:\n"
        "  Same-day alerts stop: changes arrive only in the weekly digest, on Mondays.\n",
        "",
    )
    assert run(capsys, "subscribers", "tier", sid, "free")[1] == f"{sid} is already on the Free tier\n"
    assert run(capsys, "subscribers", "tier", sid, "watcher")[1] == f"{sid}: tier free -> watcher\n"
    assert Subscribers("subscribers").get(sid).version == 3


def test_update_tier_says_what_stops_too(stack, capsys):
    sid, _ = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic")
    _, out, _ = run(capsys, "subscribers", "update", sid, "--tier", "free")
    assert out == (
        f"updated {sid}\n  tier: watcher -> free\nWhat stops:\n"
        "  Same-day alerts stop: changes arrive only in the weekly digest, on Mondays.\n"
    )


def test_tier_errors(stack, capsys):
    assert error(capsys, "subscribers", "tier", "sub_nobody", "free") == "no subscriber 'sub_nobody'"
    with pytest.raises(SystemExit) as exit_:
        main(["subscribers", "tier", "sub_nobody", "gold"])
    assert exit_.value.code == 2
    assert (
        "argument TIER: invalid choice: 'gold' (choose from 'free', 'professional', 'watcher')"
        in capsys.readouterr().err
    )


# ---------------------------------------------------------------- status


def test_confirm_unsubscribe_and_remove(stack, capsys):
    sid, _ = add(capsys, "--email", "jane@example.com", "--tier", "watcher", "--platform", "anthropic")
    store = Subscribers("subscribers")
    assert (
        run(capsys, "subscribers", "confirm", sid)[1] == f"confirmed {sid}: active, alerts start with the next change\n"
    )
    assert store.get(sid).status == "active"
    assert [s.status for s in store.watchers("anthropic")] == ["active"]  # fan-out sees it
    assert run(capsys, "subscribers", "confirm", sid)[1] == f"{sid} is already active\n"
    assert run(capsys, "subscribers", "unsubscribe", sid)[1] == f"unsubscribed {sid}: nothing more is sent to them\n"
    assert [s.status for s in store.watchers("anthropic")] == ["unsubscribed"]
    assert run(capsys, "subscribers", "unsubscribe", sid)[1] == f"{sid} is already unsubscribed\n"
    assert error(capsys, "subscribers", "confirm", sid) == (
        f"{sid} unsubscribed: confirming cannot bring them back; they must subscribe again"
    )
    assert store.get(sid).status == "unsubscribed"
    delivered = DeliveryKey("change-1", sid, "email")
    Deliveries("deliveries").claim(delivered)
    Deliveries("deliveries").sent(delivered, "ses-message-id", "sent to jane@example.com")
    assert run(capsys, "subscribers", "remove", sid)[1] == (
        f"removed {sid}; their delivery records (1) keep no address, phone or URL, and expire with their TTL\n"
    )
    [kept] = Deliveries("deliveries").for_change("change-1")
    assert kept["status"] == "sent" and "detail" not in kept and "message_id" not in kept and kept["forgotten_at"]
    assert error(capsys, "subscribers", "show", sid) == f"no subscriber {sid!r}"
    assert list(store.watchers("anthropic")) == []


# ---------------------------------------------------------------- deliveries


def test_deliveries_show_how_far_the_fan_out_has_come(stack, capsys):
    fanouts = FanOuts("deliveries")
    fanouts.start("chg-9", "alert", ["anthropic"], "changes/anthropic/privacy-policy/x.json", '{"change_id": "chg-9"}')
    first, second = PageKey("chg-9", "anthropic", 1), PageKey("chg-9", "anthropic", 2)
    fanouts.add_page(first, "{}")
    fanouts.add_page(second, "{}")
    fanouts.page_done(first, {"watchers": 100, "sent": 98, "not_entitled": 2, "items_read": 100}, last=False)
    assert run(capsys, "deliveries", "chg-9")[1].splitlines() == [
        "fan-out in progress: 1 of 2 pages done, more to come (1 of 1 platform still paging); "
        "100 subscribers read, 98 sent, 2 not entitled"
    ]
    fanouts.page_done(second, {"watchers": 40, "sent": 30, "duplicates": 10, "items_read": 40}, last=True)
    line = run(capsys, "deliveries", "chg-9")[1].splitlines()[0]
    assert line.startswith("fan-out complete at 20") and line.endswith(
        ": 2 pages; 140 subscribers read, 128 sent, 10 already sent, 2 not entitled"
    )
    summary = json.loads(run(capsys, "deliveries", "chg-9", "--json")[1])["fan_out"]
    assert summary["pages_done"] == 2 and summary["items_read"] == 140 and "event" not in summary


def test_deliveries_of_a_change(stack, capsys):
    assert run(capsys, "deliveries", "chg-1") == (0, "no deliveries for change chg-1\n", "")
    deliveries = Deliveries("deliveries")
    sent, retrying, failed, sending = (
        DeliveryKey("chg-1", "sub_a", "email"),
        DeliveryKey("chg-1", "sub_a", "sms"),
        DeliveryKey("chg-1", "sub_b", "webhook:wh_1"),
        DeliveryKey("chg-1", "sub_c", "email"),
    )
    for key in (sent, retrying, failed, sending):
        assert deliveries.claim(key)
    deliveries.sent(sent, "ses-0001", "accepted by SES")
    deliveries.retrying(retrying, "SNS throttled", 60)
    deliveries.failed(failed, "HTTP 500 from hooks.example.com")
    deliveries.claim(DeliveryKey("chg-2", "sub_a", "email"))  # another change

    code, out, _ = run(capsys, "deliveries", "chg-1")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 6
    assert lines[0].split() == ["RECIPIENT", "STATUS", "ATTEMPTS", "WHEN", "DETAIL"]
    rows = {" ".join(line.split()[:2]): line.split(None, 5)[2:] for line in lines[1:5]}
    assert rows["sub_a email"][:2] == ["sent", "1"] and rows["sub_a email"][3] == "accepted by SES"
    assert rows["sub_a sms"][:3] == ["retrying", "1", "next"] and rows["sub_a sms"][3].endswith("SNS throttled")
    assert rows["sub_b webhook:wh_1"][:2] == ["failed", "1"]
    assert rows["sub_b webhook:wh_1"][3] == "HTTP 500 from hooks.example.com"
    assert rows["sub_c email"][:2] == ["sending", "1"]
    assert lines[5] == "4 deliveries: 1 sending, 1 sent, 1 retrying, 1 failed"

    code, out, _ = run(capsys, "deliveries", "chg-1", "--json")
    items = json.loads(out)["deliveries"]
    assert json.loads(out)["fan_out"] is None  # records made by hand: no fan-out's ledger
    assert [(i["recipient"], i["status"], i["attempts"]) for i in items] == [
        ("sub_a#email", "sent", 1),
        ("sub_a#sms", "retrying", 1),
        ("sub_b#webhook:wh_1", "failed", 1),
        ("sub_c#email", "sending", 1),
    ]
    assert items[0]["message_id"] == "ses-0001" and "next_attempt_at" in items[1]


def test_a_stack_that_does_not_exist(stack, capsys):
    assert error(capsys, "--stack", "absent", "deliveries", "chg-1").startswith("no stack named 'absent' is deployed")


def test_a_stack_from_before_sign_up_adds_the_subscriber_and_says_no_confirmation_went(stack, capsys):
    code, out, err = run(
        capsys, "--stack", "no-web", "subscribers", "add", "--email", "old@example.com", "--tier", "free",
        "--platform", "anthropic",
    )  # fmt: skip
    assert (code, err) == (0, "") and "no confirmation e-mail: this stack predates sign-up" in out
    assert emails() == []


def test_reindex_gives_subscribers_from_before_sign_up_their_address_and_names_duplicates(stack, capsys):
    from policywatch.storage.subscribers import address_key

    first, _ = add(capsys, "--email", "jo@example.com", "--tier", "free", "--platform", "anthropic", "--active")
    second, _ = add(capsys, "--email", "max@example.com", "--tier", "free", "--platform", "anthropic", "--active")
    db = boto3.client("dynamodb", region_name=REGION)
    for email in ("jo@example.com", "max@example.com"):  # as stored before owner items existed
        db.delete_item(
            TableName="subscribers", Key={"subscriber_id": {"S": address_key(email)}, "item": {"S": "owner"}}
        )
    store = Subscribers("subscribers")
    legacy = store.get(second)
    twin = store.save(replace(legacy, email="jo@example.com"), legacy)  # the same address twice, as it could be
    db.delete_item(
        TableName="subscribers", Key={"subscriber_id": {"S": address_key("jo@example.com")}, "item": {"S": "owner"}}
    )
    code, out, _ = run(capsys, "subscribers", "reindex")
    assert code == 0 and out.startswith("1 address claimed by their subscriber\n")
    assert (
        f"{twin.subscriber_id} has the same address as {first}" in out
        or f"{first} has the same address as {twin.subscriber_id}" in out
    )
    assert store.by_email("jo@example.com") is not None
    assert run(capsys, "subscribers", "reindex")[1].startswith("0 addresses claimed")
