"""The manage page and its actions (``POST /manage/<action>``), for a subscriber with a session.

Platforms within the tier, alerts (digest opt-in, SMS threshold), a phone verified by a code,
provision filters (Professional), webhooks (add, test event, secret rotation, removal),
unsubscribe and subscribe again, delete my data. An edit is held to the tier in what it adds,
not in what a downgrade kept (``updated(..., lenient=True)``). Each action answers with a
redirect to the page and a notice, or the page with a one-line error.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core.errors import TransientError
from policywatch.notify.channels.webhook import send_test
from policywatch.storage.subscribers import ConcurrentUpdateError
from policywatch.subscribers import SubscriberError
from policywatch.subscribers.model import (
    SEVERITIES,
    Subscriber,
    new_endpoint,
    rotated,
    updated,
    validate_phone,
)
from policywatch.subscribers.tiers import TierError, tier
from policywatch.web import forms
from policywatch.web.forms import FormError, FormRequest
from policywatch.web.pages import PageResponse
from policywatch.web.selfservice import (
    CODE_ATTEMPTS,
    CODE_SECONDS,
    Services,
    categories,
    check_limit,
    code_of,
    expiry_text,
    form_page,
    keyed,
    now_of,
    plain_page,
    retrying,
    see_other,
    sentence,
    session_subscriber,
    stored_now,
)

NOTICES = {
    "confirmed": "Your subscription is confirmed.",
    "platforms": "Your platforms are saved.",
    "alerts": "Your alert settings are saved.",
    "provisions": "Your provision filters are saved.",
    "phone-verified": "Your phone number is verified: SMS alerts go to it.",
    "phone-removed": "Your phone number is removed: no more SMS.",
    "webhook-removed": "The webhook endpoint is removed.",
    "unsubscribed": "You are unsubscribed: policywatch sends you nothing more.",
    "resubscribed": "You are subscribed again.",
}

logger = Logger(child=True)


def manage_page(
    services: Services,
    request: FormRequest,
    subscriber: Subscriber,
    *,
    notice: str = "",
    error: str = "",
    status: int = 200,
    shown_secret: tuple[str, str] | None = None,
    test_outcome: tuple[str, Any] | None = None,
    code_sent: bool = False,
) -> PageResponse:
    plan = tier(subscriber.tier)
    recent = services.deliveries.recent(subscriber.subscriber_id, limit=30) if subscriber.webhooks else []
    webhooks = [
        {
            "id": e.endpoint_id,
            "url": e.url,
            "overlap_until": expiry_text(e.previous_until) if e.previous_secret else "",
            "recent": [d for d in recent if d.get("channel") == e.channel][:5],
        }
        for e in subscriber.webhooks
    ]
    allowed = subscriber.platforms if plan.max_platforms is None else subscriber.platforms[: plan.max_platforms]
    return form_page(
        "manage.html",
        request,
        services,
        status=status,
        title="Your subscription",
        subscriber=subscriber,
        plan=plan,
        platforms=services.platforms(),
        categories=services.categories(),
        severities=SEVERITIES,
        beyond=[p for p in subscriber.platforms if p not in allowed],
        webhooks=webhooks,
        notice=notice,
        error=error,
        shown_secret=shown_secret,
        test_outcome=test_outcome,
        code_pending=code_sent or (bool(subscriber.phone) and not subscriber.phone_verified),
    )


def manage_action(services: Services, request: FormRequest) -> PageResponse:
    subscriber = session_subscriber(services, request)
    if subscriber is None:
        raise FormError("your settings session has ended; ask for a new link on the manage page")
    action = request.path.removeprefix("/manage/").strip("/")
    if action == "signout":
        services.accounts.end_session(request.cookies.get(forms.SESSION_COOKIE, ""))
        return see_other("/manage", forms.cookie_header(forms.SESSION_COOKIE, "", request.secure, max_age=0))
    handler = _ACTIONS.get(action) or _webhook_action(action)
    if handler is None:
        return plain_page(404, "Not found", "There is no such setting.", request)
    try:
        return handler(services, request, subscriber)
    except (SubscriberError, TierError) as exc:
        if isinstance(exc, ConcurrentUpdateError):
            exc = SubscriberError("your settings changed in another window at the same moment; try again")
        current = stored_now(services, subscriber)
        return manage_page(services, request, current, error=sentence(str(exc)), status=400)


def _save(services: Services, subscriber: Subscriber, **changes: Any) -> Subscriber:
    """Save the subscriber's own edit; what it does not touch is held to the tier as fan-out holds it."""
    known = [p["id"] for p in services.platforms()]
    result = updated(subscriber, known, categories(services), lenient=True, **changes)
    return services.subscribers.save(result, subscriber)


def _set_platforms(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    chosen = request.values("platforms")
    if not chosen:
        raise SubscriberError("choose at least one platform (to stop everything, unsubscribe)")
    _save(services, subscriber, platforms=chosen)
    return see_other("/manage?notice=platforms")


def _set_alerts(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    changes: dict[str, Any] = {}
    plan = tier(subscriber.tier)
    if plan.same_day and plan.digest_opt_in:
        changes["digest"] = request.value("digest") == "on"
    if "sms" in plan.channels:
        severity = request.value("sms_min_severity", subscriber.sms_min_severity)
        if severity not in SEVERITIES:
            raise SubscriberError(f"SMS severity must be one of {', '.join(SEVERITIES)}")
        changes["sms_min_severity"] = severity
    _save(services, subscriber, **changes)
    return see_other("/manage?notice=alerts")


def _set_provisions(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    _save(services, subscriber, provisions=request.values("provisions"))
    return see_other("/manage?notice=provisions")


def _set_phone(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    plan = tier(subscriber.tier)
    if "sms" not in plan.channels:
        raise TierError(f"the {plan.label} tier has no SMS alerts")
    phone = validate_phone(request.value("phone"))
    check_limit(services, "code-subscriber", subscriber.subscriber_id)
    check_limit(services, "code-phone", keyed(services, "phone", phone))
    saved = _save(services, subscriber, phone=phone, phone_verified=False)
    code = f"{secrets.randbelow(1_000_000):06d}"
    services.accounts.put_code(saved.subscriber_id, code, phone, CODE_ATTEMPTS, CODE_SECONDS)
    try:
        services.sms.send(
            phone, f"policywatch: your code is {code}. It expires in 10 minutes. If you did not ask, ignore it."
        )
    except TransientError as exc:
        logger.warning("phone code not sent", extra={"error": code_of(exc)})  # never the number
        raise SubscriberError("the code could not be sent just now; try again in a minute") from None
    logger.info("phone code sent", extra={"subscriber_id": saved.subscriber_id})
    return manage_page(services, request, saved, notice=f"A code is on its way to {phone}.", code_sent=True)


def _verify_phone(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    check_limit(services, "verify-ip", request.client_ip)
    code = request.value("code").replace(" ", "")
    if not re.fullmatch(r"\d{6}", code):
        raise SubscriberError("the code is the 6 digits in the SMS")
    checked = services.accounts.check_code(subscriber.subscriber_id, code)
    if not checked.ok:
        if checked.expired:
            raise SubscriberError("this code has expired or was tried too often; send a new one")
        left = checked.attempts_left
        raise SubscriberError(f"that is not the code; {left} attempt{'s' * (left != 1)} left")
    if checked.phone != subscriber.phone:
        raise SubscriberError("the number changed since this code was sent; send a new one")
    _save(services, subscriber, phone_verified=True)
    return see_other("/manage?notice=phone-verified")


def _remove_phone(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    services.accounts.drop_code(subscriber.subscriber_id)
    _save(services, subscriber, phone=None, phone_verified=True)
    return see_other("/manage?notice=phone-removed")


def _add_webhook(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    plan = tier(subscriber.tier)
    if "webhook" not in plan.channels:
        raise TierError(f"the {plan.label} tier has no webhooks")
    endpoint = new_endpoint(request.value("url"), allowlist=services.webhook_allowlist)
    saved = _save(services, subscriber, webhooks=[*subscriber.webhooks, endpoint])
    return manage_page(
        services, request, saved, notice="Webhook endpoint added.", shown_secret=(endpoint.endpoint_id, endpoint.secret)
    )


def _webhook_action(action: str) -> Callable[[Services, FormRequest, Subscriber], PageResponse] | None:
    matched = re.fullmatch(r"webhooks/(wh_[0-9a-f]{12})/(test|rotate|remove)", action)
    if not matched:
        return None
    endpoint_id, verb = matched.groups()

    def run(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
        endpoint = next((e for e in subscriber.webhooks if e.endpoint_id == endpoint_id), None)
        if endpoint is None:
            raise SubscriberError("this webhook endpoint is not one of yours any more")
        if verb == "remove":
            _save(services, subscriber, webhooks=[e for e in subscriber.webhooks if e.endpoint_id != endpoint_id])
            return see_other("/manage?notice=webhook-removed")
        if verb == "rotate":
            fresh = rotated(endpoint, now_of(request))
            webhooks = [fresh if e.endpoint_id == endpoint_id else e for e in subscriber.webhooks]
            saved = _save(services, subscriber, webhooks=webhooks)
            notice = f"New secret for {endpoint.url}; the old one keeps signing too until {expiry_text(fresh.previous_until)}."
            return manage_page(services, request, saved, notice=notice, shown_secret=(endpoint_id, fresh.secret))
        check_limit(services, "test-subscriber", subscriber.subscriber_id)
        # A short deadline: the page waits for the answer (the function's timeout is 15 s).
        outcome = send_test(
            endpoint, allowlist=services.webhook_allowlist, now=now_of(request), read_timeout=5.0, deadline=5.0
        )
        logger.info("webhook test event", extra={"subscriber_id": subscriber.subscriber_id, "ok": outcome.ok})
        return manage_page(services, request, subscriber, test_outcome=(endpoint_id, outcome))

    return run


def _unsubscribe(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    if subscriber.status != "unsubscribed":
        services.subscribers.set_status(subscriber, "unsubscribed")
    return see_other("/manage?notice=unsubscribed")


def _resubscribe(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    if subscriber.status != "active":  # the session came from a link to this address: it is confirmed
        services.subscribers.set_status(subscriber, "active")
    return see_other("/manage?notice=resubscribed")


def _delete(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    if request.value("confirm") != "yes":
        raise SubscriberError("tick the box to confirm that everything is deleted")
    # Forget before and after removing: a delivery in flight may write its outcome in between.
    forgotten = services.deliveries.forget(subscriber.subscriber_id)
    services.accounts.drop_code(subscriber.subscriber_id)
    retrying(services, subscriber.subscriber_id, services.subscribers.remove)  # as stored now, all of it
    forgotten = max(forgotten, services.deliveries.forget(subscriber.subscriber_id))
    services.accounts.end_session(request.cookies.get(forms.SESSION_COOKIE, ""))
    logger.info("subscriber deleted", extra={"subscriber_id": subscriber.subscriber_id, "deliveries": forgotten})
    page = plain_page(
        200,
        "Your data is deleted",
        "Your subscription, your address, your phone number and your webhooks are deleted, and your delivery "
        "records no longer say where anything went. Nothing more is sent to you.",
        request,
    )
    cookie = forms.cookie_header(forms.SESSION_COOKIE, "", request.secure, max_age=0)
    return replace(page, headers=(*page.headers, ("Set-Cookie", cookie)))


_ACTIONS: dict[str, Callable[[Services, FormRequest, Subscriber], PageResponse]] = {
    "platforms": _set_platforms,
    "alerts": _set_alerts,
    "provisions": _set_provisions,
    "phone": _set_phone,
    "phone/verify": _verify_phone,
    "phone/remove": _remove_phone,
    "webhooks": _add_webhook,
    "unsubscribe": _unsubscribe,
    "resubscribe": _resubscribe,
    "delete": _delete,
}
