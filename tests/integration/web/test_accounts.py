"""Self-service against moto: sign-up with double opt-in, magic links, the manage page, leaving.

Each test drives the web handler as a browser would (``WebClient``: cookies, forms, CSRF
tokens) and reads what was sent from moto's SES and SNS.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from policywatch.core import clock
from policywatch.storage.accounts import Accounts
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.subscribers import AddressTakenError, Subscribers
from policywatch.web.selfservice import LIMITS
from tests.helpers.notify import emails, subscribe, texts
from tests.helpers.webclient import BASE, WebClient, link_in

ADDRESS = "ana@example.com"


def signup(client: WebClient, email: str = ADDRESS, platform: str = "anthropic", **extra: str):
    form = client.get("/signup")
    assert form.status == 200, form.text
    return client.submit(form, "/signup", email=email, platform=platform, **extra)


def last_email(to: str) -> dict:
    sent = [e for e in emails() if to in e["to"]]
    assert sent, f"nothing sent to {to}"
    return sent[-1]


def confirm(client: WebClient, email: str = ADDRESS):
    link = link_in(last_email(email)["text"], "/confirm")
    page = client.get(link.removeprefix(BASE))
    assert page.status == 200, page.text
    return client.submit(page, "/confirm")


def subscriber(email: str = ADDRESS):
    found = Subscribers("subscribers").by_email(email)
    assert found is not None
    return found


# ------------------------------------------------------------------ sign-up and confirmation


def test_sign_up_sends_only_a_confirmation_and_confirming_opens_the_manage_page(stack):
    client = WebClient()
    answer = signup(client)
    assert answer.status == 200 and "Check your inbox" in answer.text
    assert subscriber().status == "pending" and subscriber().tier == "free"
    [email] = emails()
    assert email["mime"]["Subject"] == "Confirm your policywatch subscription"
    assert "Anthropic" in email["text"] and "Nothing is sent to you until you confirm" in email["text"]

    confirmed = confirm(client)
    assert confirmed.status == 303 and confirmed.headers["Location"] == "/manage?notice=confirmed"
    assert any(c.startswith("pw_session=") and "HttpOnly" in c for c in confirmed.cookies)
    page = client.follow(confirmed)
    assert "Your subscription is confirmed" in page.text and ADDRESS in page.text
    assert subscriber().status == "active" and subscriber().platforms == ["anthropic"]
    assert page.headers["Cache-Control"] == "private, no-store"


def test_an_address_subscribes_once_and_signing_up_again_reveals_nothing(stack):
    first, again = WebClient(), WebClient(ip="198.51.100.9")
    answer1 = signup(first)
    answer2 = signup(again, platform="openai")
    assert answer1.text == answer2.text  # the same answer, known address or not
    assert len(Subscribers("subscribers").list()) == 1
    assert [e["mime"]["Subject"] for e in emails()] == ["Confirm your policywatch subscription"] * 2
    confirm(again)  # the newest link carries the newest choice
    assert subscriber().platforms == ["openai"]
    # Confirmed: signing up once more mails a manage link that says so, and the page is the same.
    answer3 = signup(WebClient(ip="198.51.100.10"))
    assert answer3.text == answer1.text
    assert "already subscribed" in last_email(ADDRESS)["text"]
    assert len(Subscribers("subscribers").list()) == 1


def test_a_confirmation_link_works_once_and_a_forged_or_expired_one_not_at_all(stack, monkeypatch):
    client = WebClient()
    signup(client)
    link = link_in(last_email(ADDRESS)["text"], "/confirm").removeprefix(BASE)
    forged = link.replace("sig=", "sig=x")
    assert "not valid" in client.get(forged).text
    page = client.get(link)
    assert client.submit(page, "/confirm").status == 303
    again = client.submit(page, "/confirm")
    assert again.status == 400 and "used already or has expired" in again.text

    signup(WebClient(ip="198.51.100.1"), email="bo@example.com")
    late = link_in(last_email("bo@example.com")["text"], "/confirm").removeprefix(BASE)
    later = clock.now() + timedelta(hours=25)
    monkeypatch.setattr(clock, "now", lambda: later)
    assert "has expired" in client.get(late).text
    assert subscriber("bo@example.com").status == "pending"


def test_nothing_but_the_confirmation_reaches_an_unconfirmed_address(stack, context):
    from tests.helpers.changes import training_change

    signup(WebClient())
    training_change(stack, context)  # a change to Anthropic, fanned out
    assert [e["mime"]["Subject"] for e in emails()] == ["Confirm your policywatch subscription"]


# ------------------------------------------------------------------ magic links and the manage page


def test_a_magic_link_goes_only_to_a_known_address_and_the_answer_is_the_same(stack):
    subscribe(ADDRESS, "watcher", ["anthropic"])
    client = WebClient()
    form = client.get("/manage")
    known = client.submit(form, "/manage/link", email=ADDRESS)
    unknown = client.submit(form, "/manage/link", email="nobody@example.com")
    assert known.status == unknown.status == 200 and known.text == unknown.text
    # Both addresses get mail (the same work either way); only the subscriber's holds a link to settings.
    assert [set(e["to"]) for e in emails()] == [{ADDRESS}, {"nobody@example.com"}]
    assert "/manage/open?" not in emails()[1]["text"] and "has no policywatch subscription" in emails()[1]["text"]
    link = link_in(emails()[0]["text"], "/manage/open").removeprefix(BASE)
    page = client.get(link)
    opened = client.submit(page, "/manage/open")
    manage = client.follow(opened)
    assert "Watcher tier" in manage.text
    assert client.submit(page, "/manage/open").status == 400  # single use


def test_the_manage_page_changes_platforms_within_the_tier_and_alerts(stack):
    client = manage_session(stack, "watcher")
    page = client.get("/manage")
    saved = client.submit(page, "/manage/platforms", platforms=["anthropic", "openai"])
    assert client.follow(saved).status == 200
    assert subscriber().platforms == ["anthropic", "openai"]
    over = client.submit(page, "/manage/platforms", platforms=[f"p{i}" for i in range(3)])
    assert over.status == 400 and "Unknown platform 'p0'" in over.text
    client.follow(client.submit(page, "/manage/alerts", digest="on", sms_min_severity="high"))
    assert subscriber().digest and subscriber().sms_min_severity == "high"


def test_a_free_subscriber_is_held_to_one_platform(stack):
    client = manage_session(stack, "free")
    page = client.get("/manage")
    refused = client.submit(page, "/manage/platforms", platforms=["anthropic", "openai"])
    assert refused.status == 400 and "Free tier watches 1 platform" in refused.text
    assert subscriber().platforms == ["anthropic"]


def manage_session(stack, tier: str, email: str = ADDRESS) -> WebClient:
    """A subscriber on ``tier`` and a client holding a session on their manage page."""
    subscribe(email, tier, ["anthropic"])
    client = WebClient()
    client.submit(client.get("/manage"), "/manage/link", email=email)
    page = client.get(link_in(last_email(email)["text"], "/manage/open").removeprefix(BASE))
    assert client.submit(page, "/manage/open").status == 303
    return client


# ------------------------------------------------------------------ phones


def test_sms_goes_only_to_a_phone_verified_with_the_code_sent_to_it(stack):
    client = manage_session(stack, "watcher")
    sent = client.submit(client.get("/manage"), "/manage/phone", phone="+14155550123")
    assert sent.status == 200 and "A code is on its way" in sent.text
    assert subscriber().phone == "+14155550123" and not subscriber().phone_verified
    [(phone, text)] = texts()
    code = text.split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    refused = client.submit(sent, "/manage/phone/verify", code=wrong)
    assert refused.status == 400 and "4 attempts left" in refused.text
    verified = client.submit(refused, "/manage/phone/verify", code=code)
    assert client.follow(verified).status == 200 and subscriber().phone_verified


def test_a_code_dies_after_five_wrong_attempts(stack):
    client = manage_session(stack, "watcher")
    page = client.submit(client.get("/manage"), "/manage/phone", phone="+14155550123")
    code = texts()[0][1].split("code is ")[1][:6]
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        page = client.submit(page, "/manage/phone/verify", code=wrong)
    final = client.submit(page, "/manage/phone/verify", code=code)
    assert final.status == 400 and "expired or was tried too often" in final.text
    assert not subscriber().phone_verified


def test_free_has_no_sms_and_a_bad_number_is_one_line(stack):
    free = manage_session(stack, "free")
    page = free.get("/manage")
    assert page.soup.select_one("form[action^='/manage/phone']") is None
    refused = free.post("/manage/phone", {**page.form("/manage/platforms"), "phone": "+14155550123"})
    assert refused.status == 400 and "Free tier has no SMS" in refused.text


def test_an_invalid_phone_number_is_named(stack):
    client = manage_session(stack, "watcher")
    refused = client.submit(client.get("/manage"), "/manage/phone", phone="12345")
    assert refused.status == 400 and "Invalid phone number '12345'" in refused.text
    assert texts() == []


# ------------------------------------------------------------------ leaving


def test_unsubscribe_and_subscribe_again_from_the_manage_page(stack):
    client = manage_session(stack, "watcher")
    client.follow(client.submit(client.get("/manage"), "/manage/unsubscribe"))
    assert subscriber().status == "unsubscribed"
    page = client.get("/manage")
    assert "Nothing is sent to you now" in page.text
    client.follow(client.submit(page, "/manage/resubscribe"))
    assert subscriber().status == "active"


def test_delete_my_data_removes_the_subscriber_and_frees_the_address(stack):
    client = manage_session(stack, "watcher")
    sid = subscriber().subscriber_id
    delivered = DeliveryKey("change-1", sid, "email")
    Deliveries("deliveries").claim(delivered)
    Deliveries("deliveries").sent(delivered, "ses-message-id", "sent to ana@example.com")
    page = client.get("/manage")
    unticked = client.submit(page, "/manage/delete")
    assert unticked.status == 400 and "tick the box" in unticked.text.lower()
    deleted = client.submit(page, "/manage/delete", confirm="yes")
    assert deleted.status == 200 and "Your data is deleted" in deleted.text
    assert Subscribers("subscribers").by_email(ADDRESS) is None and Subscribers("subscribers").list() == []
    assert "pw_session" not in client.cookies
    [kept] = Deliveries("deliveries").for_change("change-1")  # the audit trail, without where it went
    assert kept["status"] == "sent" and kept["forgotten_at"] and not {"detail", "message_id"} & set(kept)
    ended = client.post("/manage/platforms", {**page.form("/manage/platforms"), "platforms": "openai"})
    assert ended.status == 400 and "session has ended" in ended.text
    signup(WebClient(ip="198.51.100.3"))  # the address is free again
    assert subscriber().status == "pending"


# ------------------------------------------------------------------ abuse


def test_csrf_a_form_from_another_site_or_without_its_token_is_refused(stack):
    client = WebClient()
    page = client.get("/signup")
    fields = {"email": ADDRESS, "platform": "anthropic"}
    no_token = client.post("/signup", fields)
    assert no_token.status == 400 and "form has expired" in no_token.text
    elsewhere = client.post("/signup", {**page.form("/signup"), **fields}, origin="https://evil.example")
    assert elsewhere.status == 400 and "sent from another site" in elsewhere.text
    cookieless = WebClient(cookies={})
    token = page.form("/signup")
    assert "did not send back" in cookieless.post("/signup", {**token, **fields}).text
    assert emails() == [] and Subscribers("subscribers").list() == []


def test_a_filled_honeypot_gets_the_same_answer_and_nothing(stack):
    answer = signup(WebClient(), website="https://spam.example")
    assert answer.status == 200 and "Check your inbox" in answer.text
    assert emails() == [] and Subscribers("subscribers").list() == []


def test_sign_ups_are_limited_per_address_and_per_network(stack):
    limit = LIMITS["signup-address"].count
    for n in range(limit):
        assert signup(WebClient(ip=f"198.51.100.{n}")).status == 200
    refused = signup(WebClient(ip="198.51.100.99"))
    assert refused.status == 429 and "too many confirmation e-mails to this address" in refused.text.lower()
    assert int(refused.headers["Retry-After"]) > 0
    assert len(emails()) == limit

    network = WebClient(ip="192.0.2.50")
    per_ip = LIMITS["signup-ip"].count
    answers = [signup(network, email=f"p{n}@example.com").status for n in range(per_ip + 1)]
    assert answers[:per_ip] == [200] * per_ip and answers[-1] == 429


def test_link_requests_are_limited_per_address(stack):
    subscribe(ADDRESS, "watcher", ["anthropic"])
    answers = []
    for n in range(LIMITS["link-address"].count + 1):
        client = WebClient(ip=f"198.51.100.{n}")
        answers.append(client.submit(client.get("/manage"), "/manage/link", email=ADDRESS).status)
    assert answers[-1] == 429 and answers[:-1] == [200] * (len(answers) - 1)


def test_rate_counters_expire_with_their_window(stack):
    accounts = Accounts("accounts")
    assert accounts.hit("t", "x", 1, 60) is None
    assert accounts.hit("t", "x", 1, 60) is not None
    item = stack_item("accounts")
    assert item["expires_at"] > clock.now().timestamp()


def stack_item(table: str) -> dict:
    import boto3

    from policywatch.storage import clients as aws

    [item] = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    return aws.from_dynamodb(item)


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("email", "platform", "says"),
    [
        ("not-an-address", "anthropic", "invalid email address 'not-an-address'"),
        ("ana@example.com", "", "Choose a platform to watch"),
        ("ana@example.com", "nope", "unknown platform 'nope'"),
    ],
)
def test_a_bad_sign_up_is_one_line_on_the_form(stack, email, platform, says):
    answer = signup(WebClient(), email=email, platform=platform)
    assert answer.status == 400 and says.lower() in answer.text.lower()
    assert answer.soup.find("form", attrs={"action": "/signup"}) is not None  # the form again, filled in
    assert emails() == []


def test_a_body_that_is_not_a_form_or_too_big_is_refused(stack):
    client = WebClient()
    page = client.get("/signup")
    json_body = client.post("/signup", page.form("/signup"), content_type="application/json")
    assert json_body.status == 400 and "takes a form" in json_body.text
    huge = client.post("/signup", {**page.form("/signup"), "email": "a" * 20_000})
    assert huge.status == 400 and "larger than 16 KB" in huge.text


def test_unknown_manage_actions_and_methods(stack):
    client = manage_session(stack, "watcher")
    page = client.get("/manage")
    assert client.post("/manage/nothing", page.form("/manage/platforms")).status == 404
    assert client.get("/manage/platforms").status == 405
    assert client.post("/platforms/anthropic", {}).status == 405


def test_an_operator_added_phone_stays_verified(stack):
    added = subscribe("op@example.com", "watcher", ["anthropic"], phone="+14155550199")
    assert added.phone_verified
    assert replace(added, phone_verified=False).to_item()["phone_verified"] is False


# Each remaining rule, with its limit lowered to 2 so the third request is the one refused.


def lowered(monkeypatch, rule: str) -> None:
    monkeypatch.setitem(LIMITS, rule, replace(LIMITS[rule], count=2))


def test_manage_link_requests_are_limited_per_network(stack, monkeypatch):
    lowered(monkeypatch, "link-ip")
    client = WebClient(ip="192.0.2.60")
    page = client.get("/manage")
    answers = [client.submit(page, "/manage/link", email=f"n{n}@example.com").status for n in range(3)]
    assert answers == [200, 200, 429]


def test_opening_links_is_limited_per_network(stack, monkeypatch):
    lowered(monkeypatch, "open-ip")
    client = WebClient(ip="192.0.2.61")
    signup(client)
    page = client.get(link_in(last_email(ADDRESS)["text"], "/confirm").removeprefix(BASE))
    fields = page.form("/confirm")
    forged = client.post("/confirm", {**fields, "sig": "forged"})  # refused before it is counted
    statuses = [client.post("/confirm", fields).status for _ in range(3)]  # opened, then used already
    assert forged.status == 400 and statuses == [303, 400, 429]
    assert "links opened from your network" in client.post("/confirm", fields).text


def test_phone_codes_are_limited_per_subscription_and_per_number(stack, monkeypatch):
    lowered(monkeypatch, "code-subscriber")
    lowered(monkeypatch, "code-phone")
    client = manage_session(stack, "watcher")
    page = client.get("/manage")
    sends = [client.submit(page, "/manage/phone", phone=f"+1415555010{n}").status for n in range(3)]
    assert sends == [200, 200, 429] and len(texts()) == 2
    other = manage_session(stack, "watcher", email="bo@example.com")
    page = other.get("/manage")
    # +14155550100 has had one code; one more, then the number is refused whoever asks.
    assert other.submit(page, "/manage/phone", phone="+14155550100").status == 200
    refused = other.submit(page, "/manage/phone", phone="+14155550100")
    assert refused.status == 429 and "codes sent to this number" in refused.text


def test_code_attempts_are_limited_per_network(stack, monkeypatch):
    lowered(monkeypatch, "verify-ip")
    client = manage_session(stack, "watcher")
    page = client.submit(client.get("/manage"), "/manage/phone", phone="+14155550123")
    answers = [client.submit(page, "/manage/phone/verify", code="999999").status for _ in range(3)]
    assert answers[-1] == 429


def test_webhook_test_events_are_limited_per_subscription(stack, monkeypatch):
    from functions.web import web_handler
    from tests.helpers.webhooks import webhook_receiver

    lowered(monkeypatch, "test-subscriber")
    with webhook_receiver(monkeypatch) as server:
        web_handler._services.cache_clear()
        server.expect_request("/hook").respond_with_data("", status=204)
        client = manage_session(stack, "professional")
        added = client.submit(client.get("/manage"), "/manage/webhooks", url=server.url_for("/hook"))
        endpoint_id = subscriber().webhooks[0].endpoint_id
        answers = [client.submit(added, f"/manage/webhooks/{endpoint_id}/test").status for _ in range(3)]
        assert answers == [200, 200, 429] and len(server.log) == 2


# ------------------------------------------------------------------ what a hostile review found


def test_a_new_address_moves_the_owner_item_and_frees_the_old_one(stack):
    from policywatch.subscribers import updated

    stored = subscribe(ADDRESS, "watcher", ["anthropic"])
    store = Subscribers("subscribers")
    moved = store.save(updated(stored, ["anthropic", "openai"], [], email="bo@example.com"), stored)
    assert store.by_email("bo@example.com").subscriber_id == moved.subscriber_id
    assert store.by_email(ADDRESS) is None
    signup(WebClient())  # the old address is free: a sign-up of its own
    assert store.by_email(ADDRESS).status == "pending" and len(store.list()) == 2
    taken = store.get(moved.subscriber_id)
    with pytest.raises(AddressTakenError):
        store.save(updated(taken, ["anthropic"], [], email=ADDRESS), taken)
    store.remove(store.get(moved.subscriber_id))
    assert store.by_email("bo@example.com") is None


def test_an_unconfirmed_sign_up_expires_and_a_confirmed_one_does_not(stack):
    client = WebClient()
    signup(client)
    week = clock.now().timestamp() + 7 * 86400
    items = [i for i in scan("subscribers") if i.get("owner") == subscriber().subscriber_id or "email" in i]
    assert len(items) == 3 and all(abs(int(i["expires_at"]) - week) < 60 for i in items)  # profile, watch, owner
    confirm(client)
    assert not [i for i in scan("subscribers") if "expires_at" in i]


def scan(table: str) -> list[dict]:
    import boto3

    from policywatch.storage import clients as aws

    return [
        aws.from_dynamodb(i) for i in boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    ]


def test_a_downgraded_subscriber_can_still_bring_their_settings_within_the_tier(stack):
    client = manage_session(stack, "watcher")
    store = Subscribers("subscribers")
    current = store.get(subscriber().subscriber_id)
    watcher = store.save(replace(current, platforms=["anthropic", "openai"], phone="+14155550123"), current)
    store.save(replace(watcher, tier="free"), watcher)  # what billing does: nothing trimmed
    page = client.get("/manage")
    assert "Beyond your tier now, and not alerted: openai" in page.text
    # Each edit is held to the tier in what it changes, not in what it leaves beyond the tier.
    client.follow(client.submit(page, "/manage/phone/remove"))  # two platforms stored: no matter
    client.follow(client.submit(page, "/manage/platforms", platforms="openai"))
    assert (subscriber().platforms, subscriber().phone) == (["openai"], None)
    refused = client.submit(page, "/manage/platforms", platforms=["anthropic", "openai"])
    assert refused.status == 400 and "Free tier watches 1 platform" in refused.text  # an edit is held to the tier


def test_mail_that_fails_to_go_changes_no_answer_and_logs_no_address(stack, monkeypatch, caplog):
    from policywatch.storage.errors import StorageError
    from policywatch.storage.outbound import Mailer

    def rejected(self, source, recipient, message):
        raise StorageError("SendRawEmail", "MessageRejected", f"Email address is not verified: {recipient}")

    subscribe(ADDRESS, "watcher", ["anthropic"])
    monkeypatch.setattr(Mailer, "send_raw", rejected)
    client = WebClient()
    page = client.get("/manage")
    known = client.submit(page, "/manage/link", email=ADDRESS)
    unknown = client.submit(page, "/manage/link", email="nobody@example.com")
    assert known.status == unknown.status == 200 and known.text == unknown.text
    codes = [getattr(r, "error", None) for r in caplog.records if r.getMessage() == "account e-mail not sent"]
    assert codes == ["MessageRejected", "MessageRejected"]
    assert not [r for r in caplog.records if "@example.com" in str(r.__dict__)]


def test_an_active_address_gets_at_most_its_manage_link_limit_through_sign_up_too(stack):
    subscribe(ADDRESS, "watcher", ["anthropic"])
    limit = LIMITS["link-address"].count
    for n in range(LIMITS["signup-address"].count):
        assert signup(WebClient(ip=f"198.51.100.{n}")).status == 200
    client = WebClient(ip="198.51.100.50")
    statuses = [client.submit(client.get("/manage"), "/manage/link", email=ADDRESS).status for _ in range(2)]
    assert len(emails()) == limit and statuses == [429, 429]


def test_a_plus_tag_is_the_same_mailbox_for_the_limits(stack):
    for n in range(LIMITS["signup-address"].count):
        assert signup(WebClient(ip=f"198.51.100.{n}"), email=f"ana+{n}@example.com").status == 200
    assert signup(WebClient(ip="198.51.100.77"), email="ana+x@example.com").status == 429


def test_odd_origins_methods_and_bodies_are_answers_not_crashes(stack):
    client = WebClient(origin="https://[")
    page = client.get("/signup")
    odd = client.post("/signup", {**page.form("/signup"), "email": ADDRESS, "platform": "anthropic"})
    assert odd.status == 400 and "unreadable origin" in odd.text
    put = client._send("PUT", "/signup")
    assert put.status == 405 and put.headers["Allow"] == "GET, HEAD, POST"


def test_the_site_address_the_stack_published_is_used_when_none_is_configured(stack, monkeypatch):
    import boto3

    from functions.web import web_handler

    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name="/policywatch/public-base-url", Value="https://d1234.cloudfront.net", Type="String"
    )
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    monkeypatch.setenv("PUBLIC_BASE_URL_PARAMETER", "/policywatch/public-base-url")
    web_handler._published.clear()
    client = WebClient(origin="https://d1234.cloudfront.net")
    assert signup(client).status == 200  # the form's origin is the site's
    assert "https://d1234.cloudfront.net/confirm?t=" in last_email(ADDRESS)["text"]
