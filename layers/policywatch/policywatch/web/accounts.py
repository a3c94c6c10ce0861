"""Self-service: sign-up with double opt-in, the manage page, phone codes, webhooks, leaving.

    GET  /signup                 the form: an address and a platform (the Free tier)
    POST /signup                 "check your inbox", whatever the address (a confirmation is sent)
    GET  /confirm?t&e&sig        a button (mail scanners follow links; a GET changes nothing)
    POST /confirm                the subscription is confirmed; a session opens the manage page
    GET  /manage                 the manage page with a session, else the form asking for a link
    POST /manage/link            "check your inbox" (a magic link goes to a known address)
    GET  /manage/open?t&e&sig    a button; POST /manage/open opens a session
    POST /manage/<action>        platforms, alerts, phone, code, provisions, webhooks, unsubscribe,
                                 resubscribe, delete, signout

Rules (docs/accounts.md): nothing but a confirmation or a manage link is sent to an address
until its owner confirms it; an address subscribes once; no answer says whether an address is
known; every form carries a CSRF token and works without JavaScript; sign-up, links and codes
are rate-limited per address and per source address; a form's problem is one line on the page.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core import clock
from policywatch.core.errors import TransientError
from policywatch.messages.render import Email
from policywatch.messages.render import render as render_message
from policywatch.notify.channels.email import send_email
from policywatch.notify.channels.webhook import send_test
from policywatch.storage.accounts import Accounts
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.outbound import Mailer, SmsSender
from policywatch.storage.subscribers import AddressTakenError, ConcurrentUpdateError, Subscribers
from policywatch.subscribers import SubscriberError
from policywatch.subscribers.model import (
    SEVERITIES,
    Subscriber,
    new_endpoint,
    new_subscriber,
    rotated,
    updated,
    validate_email,
    validate_phone,
)
from policywatch.subscribers.tiers import TierError, tier
from policywatch.web import forms
from policywatch.web.forms import CSRF_FIELD, FormError, FormRequest
from policywatch.web.pages import PRIVATE, PageResponse
from policywatch.web.render import render

logger = Logger(child=True)

SIGNUP_TIER = "free"
CONFIRM_LINK_SECONDS = 24 * 3600
MANAGE_LINK_SECONDS = 30 * 60
SESSION_SECONDS = 3600
CODE_SECONDS = 10 * 60
CODE_ATTEMPTS = 5
UNCONFIRMED_SECONDS = 7 * 86400  # a sign-up nobody confirms is deleted after a week (DynamoDB TTL)


@dataclass(frozen=True)
class Limit:
    """At most ``count`` requests per ``window`` seconds, per subject."""

    count: int
    window: int
    what: str  # how the refusal names it: "sign-ups from this network"


# The limits in force (docs/accounts.md lists them). Per address: a mailbox cannot be flooded
# through us; per source address: one client cannot walk through addresses or phone numbers.
LIMITS = {
    "signup-ip": Limit(20, 3600, "sign-ups from your network"),
    "signup-address": Limit(3, 3600, "confirmation e-mails to this address"),
    "link-ip": Limit(20, 3600, "link requests from your network"),
    "link-address": Limit(3, 3600, "manage links to this address"),
    "open-ip": Limit(60, 3600, "links opened from your network"),
    "code-subscriber": Limit(3, 3600, "codes sent for this subscription"),
    "code-phone": Limit(3, 86400, "codes sent to this number"),
    "verify-ip": Limit(30, 3600, "code attempts from your network"),
    "test-subscriber": Limit(20, 3600, "test events for this subscription"),
}


class RateLimited(FormError):
    def __init__(self, limit: Limit, retry_after: int) -> None:
        minutes = max(1, round(retry_after / 60))
        super().__init__(
            f"too many {limit.what} in the last while; try again in {minutes} minute{'s' * (minutes != 1)}"
        )
        self.retry_after = retry_after


@dataclass
class Services:
    """What the forms read and write, and how they send."""

    subscribers: Subscribers
    accounts: Accounts
    deliveries: Deliveries
    mailer: Mailer
    sms: SmsSender
    key: Callable[[], bytes]  # the site's signing key (read from Secrets Manager when first needed)
    sender: str
    platforms: Callable[[], list[dict[str, str]]]  # [{"id", "name"}], the catalog's
    categories: Callable[[], list[dict[str, str]]]  # [{"id", "label"}], the provision taxonomy's
    webhook_allowlist: frozenset[str] = frozenset()


def owns(path: str) -> bool:
    """True for the self-service paths (their GETs are answered here, not by the site's views)."""
    path = path.rstrip("/") or "/"
    return path in _GET or path in _POST or path.startswith("/manage/")


def route(services: Services, request: FormRequest) -> PageResponse | None:
    """The answer to a self-service path, or None when the path is not one of these."""
    path = request.path.rstrip("/") or "/"
    handler = _GET.get(path) if request.method in ("GET", "HEAD") else None
    if request.method == "POST":
        handler = _POST.get(path)
        if handler is None and path.startswith("/manage/"):
            handler = _manage_action
    if handler is None:
        if path in _GET or path in _POST or path.startswith("/manage/"):
            allowed = ", ".join(m for m, table in (("GET", _GET), ("POST", _POST)) if path in table) or "POST"
            return _page(405, "Method not allowed", f"This page answers {allowed} only.", request)
        return None
    try:
        if request.method == "POST":
            forms.check_csrf(services.key(), request)
        return handler(services, request)
    except RateLimited as exc:
        page = _page(429, "Too many requests", _sentence(str(exc)), request)
        return replace(page, headers=(*page.headers, ("Retry-After", str(exc.retry_after))))
    except FormError as exc:
        return _page(400, "That did not work", _sentence(str(exc)), request)


# ------------------------------------------------------------------------- sign-up


def signup_form(services: Services, request: FormRequest, error: str = "", status: int = 200) -> PageResponse:
    chosen = request.value("platform") or request.query.get("platform", "")
    return _form_page(
        "signup.html",
        request,
        services,
        status=status,
        title="Subscribe",
        platforms=services.platforms(),
        chosen=chosen,
        email=request.value("email"),
        error=error,
    )


def signup(services: Services, request: FormRequest) -> PageResponse:
    if request.value(forms.HONEYPOT_FIELD):  # a bot: the same answer as anyone, and nothing sent
        logger.info("sign-up honeypot filled")
        return _inbox(request, "a confirmation link")
    try:
        email = validate_email(request.value("email"))
        platform = request.value("platform")
        known = {p["id"] for p in services.platforms()}
        if platform not in known:
            raise SubscriberError("choose a platform to watch" if not platform else f"unknown platform {platform!r}")
    except SubscriberError as exc:
        return signup_form(services, request, error=_sentence(str(exc)), status=400)
    _limit(services, "signup-ip", request.client_ip)
    _limit(services, "signup-address", _address_subject(services, email))
    existing = services.subscribers.by_email(email)
    if existing is None:
        try:
            made = new_subscriber(email=email, tier_id=SIGNUP_TIER, platforms=[platform], known_platforms=known)
            expires = int(_now(request).timestamp()) + UNCONFIRMED_SECONDS
            existing = services.subscribers.add(replace(made, expires_at=expires))
            logger.info("signed up", extra={"subscriber_id": existing.subscriber_id})
        except AddressTakenError:  # the same address signed up at the same moment
            existing = services.subscribers.by_email(email)
    if existing is not None:
        found = existing
        if found.status == "active":
            # Already in: a manage link, which says so, instead. It counts against the address's
            # manage links too, silently: a refusal here would say the address is subscribed.
            if _within(services, "link-address", _address_subject(services, email)):
                _quietly(lambda: _send_manage_link(services, request, found, already=True))
        else:
            _quietly(lambda: _send_confirmation(services, request, _unexpired(services, request, found), platform))
    return _inbox(request, "a confirmation link")


def _unexpired(services: Services, request: FormRequest, subscriber: Subscriber) -> Subscriber:
    """A pending sign-up kept a week from now again, so the new link does not outlive it."""
    if not subscriber.expires_at:
        return subscriber
    expires = int(_now(request).timestamp()) + UNCONFIRMED_SECONDS
    try:
        return services.subscribers.save(replace(subscriber, expires_at=expires), subscriber)
    except ConcurrentUpdateError:
        return subscriber


def _send_confirmation(services: Services, request: FormRequest, subscriber: Subscriber, platform: str) -> None:
    send_confirmation(
        services.accounts,
        services.mailer,
        services.sender,
        services.key(),
        request.base_url,
        subscriber,
        platform,
        _platform_name(services, platform),
        _now(request),
    )


def send_confirmation(
    accounts: Accounts,
    mailer: Mailer,
    sender: str,
    key: bytes,
    base_url: str,
    subscriber: Subscriber,
    platform: str,
    platform_name: str,
    now: datetime,
) -> None:
    """E-mail ``subscriber`` a signed, single-use link that confirms the subscription (and the platform chosen).

    The sign-up form sends it, and so does ``policywatch subscribers add`` without ``--active``.
    """
    link = forms.new_link(now, CONFIRM_LINK_SECONDS)
    accounts.put_link(link.token, "confirm", subscriber.subscriber_id, CONFIRM_LINK_SECONDS, {"platform": platform})
    url = f"{base_url.rstrip('/')}/confirm?{link.query(key, 'confirm')}"
    _mail(
        mailer,
        sender,
        subscriber.email,
        "Confirm your policywatch subscription",
        heading="Confirm your subscription",
        lines=[
            f"Someone, hopefully you, asked policywatch to watch {platform_name} for this address.",
            "Nothing is sent to you until you confirm. The link works once, for 24 hours.",
        ],
        button="Confirm my subscription",
        url=url,
        footer="If this was not you, ignore this message: without a confirmation, nothing more is sent.",
    )


def confirm_form(services: Services, request: FormRequest) -> PageResponse:
    forms.read_link(services.key(), "confirm", request.query, _now(request))
    return _button_page(services, request, "Confirm your subscription", "One click confirms it.", "/confirm", "Confirm")


def confirm(services: Services, request: FormRequest) -> PageResponse:
    token = forms.read_link(services.key(), "confirm", _link_fields(request), _now(request))
    _limit(services, "open-ip", request.client_ip)
    redeemed = services.accounts.redeem(token, "confirm")
    if redeemed is None:
        raise FormError("this link was used already or has expired; sign up again for a new one")
    subscriber = _retrying(services, redeemed.subject, lambda s: _confirmed(services, s, redeemed.data))
    logger.info("subscription confirmed", extra={"subscriber_id": subscriber.subscriber_id})
    return _open_session(services, request, subscriber, notice="confirmed")


def _confirmed(services: Services, subscriber: Subscriber, data: dict[str, Any]) -> Subscriber:
    """Active, watching the platform the sign-up asked for (the Free tier's one, or one more within the tier)."""
    platform = str(data.get("platform", ""))
    platforms = list(subscriber.platforms)
    if platform and platform not in platforms:
        plan = tier(subscriber.tier)
        full = plan.max_platforms is not None and len(platforms) >= plan.max_platforms
        platforms = [platform] if plan.max_platforms == 1 else platforms if full else [*platforms, platform]
    if subscriber.status == "active" and platforms == subscriber.platforms and not subscriber.expires_at:
        return subscriber
    known = [p["id"] for p in services.platforms()]
    result = updated(
        subscriber, known, _categories(services), lenient=True, platforms=platforms, status="active", expires_at=0
    )
    return services.subscribers.save(result, subscriber)


# ------------------------------------------------------------------------- manage links and sessions


def manage(services: Services, request: FormRequest) -> PageResponse:
    subscriber = _session_subscriber(services, request)
    if subscriber is None:
        return _form_page("manage_link.html", request, services, title="Manage your subscription", email="", error="")
    return manage_page(services, request, subscriber, notice=_NOTICES.get(request.query.get("notice", ""), ""))


def manage_link(services: Services, request: FormRequest) -> PageResponse:
    try:
        email = validate_email(request.value("email"))
    except SubscriberError as exc:
        return _form_page(
            "manage_link.html",
            request,
            services,
            status=400,
            title="Manage your subscription",
            email=request.value("email"),
            error=_sentence(str(exc)),
        )
    _limit(services, "link-ip", request.client_ip)
    _limit(services, "link-address", _address_subject(services, email))
    subscriber = services.subscribers.by_email(email)
    if subscriber is not None:
        found = subscriber
        _quietly(lambda: _send_manage_link(services, request, found, already=False))
    else:  # mail either way: the same work and the same answer, whether the address is known or not
        _quietly(lambda: _send_not_subscribed(services, request, email))
    return _inbox(request, "a link to your settings")


def _send_not_subscribed(services: Services, request: FormRequest, email: str) -> None:
    _mail(
        services.mailer,
        services.sender,
        email,
        "Your policywatch settings",
        heading="This address is not subscribed",
        lines=[
            "Someone, hopefully you, asked for a link to this address's policywatch settings, "
            "but this address has no policywatch subscription.",
            "Subscribing is free: one platform and a weekly digest of its policy changes.",
        ],
        button="Subscribe",
        url=f"{request.base_url}/signup",
        footer="If this was not you, ignore this message: nothing was changed and nothing more is sent.",
    )


def _send_manage_link(services: Services, request: FormRequest, subscriber: Subscriber, *, already: bool) -> None:
    link = forms.new_link(_now(request), MANAGE_LINK_SECONDS)
    services.accounts.put_link(link.token, "manage", subscriber.subscriber_id, MANAGE_LINK_SECONDS)
    url = f"{request.base_url}/manage/open?{link.query(services.key(), 'manage')}"
    first = (
        "This address is already subscribed to policywatch; nothing changed."
        if already
        else "Someone, hopefully you, asked for a link to this address's policywatch settings."
    )
    _mail(
        services.mailer,
        services.sender,
        subscriber.email,
        "Your policywatch settings",
        heading="Manage your subscription",
        lines=[first, "The link opens your settings once, within 30 minutes."],
        button="Open my settings",
        url=url,
        footer="If this was not you, ignore this message: nothing changes unless the link is opened.",
    )


def open_form(services: Services, request: FormRequest) -> PageResponse:
    forms.read_link(services.key(), "manage", request.query, _now(request))
    return _button_page(
        services, request, "Open your settings", "One click opens them for an hour.", "/manage/open", "Open my settings"
    )


def open_session(services: Services, request: FormRequest) -> PageResponse:
    token = forms.read_link(services.key(), "manage", _link_fields(request), _now(request))
    _limit(services, "open-ip", request.client_ip)
    redeemed = services.accounts.redeem(token, "manage")
    if redeemed is None:
        raise FormError("this link was used already or has expired; ask for a new one on the manage page")
    try:
        subscriber = services.subscribers.get(redeemed.subject)
    except SubscriberError:
        raise FormError("this subscription no longer exists; you can sign up again") from None
    return _open_session(services, request, subscriber, notice="")


def _open_session(services: Services, request: FormRequest, subscriber: Subscriber, notice: str) -> PageResponse:
    token = forms.new_session_token()
    services.accounts.put_session(token, subscriber.subscriber_id, SESSION_SECONDS)
    cookie = forms.cookie_header(forms.SESSION_COOKIE, token, request.secure, max_age=SESSION_SECONDS)
    return _see_other("/manage" + (f"?notice={notice}" if notice else ""), cookie)


def _session_subscriber(services: Services, request: FormRequest) -> Subscriber | None:
    token = request.cookies.get(forms.SESSION_COOKIE, "")
    if not token or len(token) > 128:
        return None
    subscriber_id = services.accounts.session(token)
    if subscriber_id is None:
        return None
    try:
        return services.subscribers.get(subscriber_id)
    except SubscriberError:  # deleted meanwhile
        return None


# ------------------------------------------------------------------------- the manage page


_NOTICES = {
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
    return _form_page(
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


def _manage_action(services: Services, request: FormRequest) -> PageResponse:
    subscriber = _session_subscriber(services, request)
    if subscriber is None:
        raise FormError("your settings session has ended; ask for a new link on the manage page")
    action = request.path.removeprefix("/manage/").strip("/")
    if action == "signout":
        services.accounts.end_session(request.cookies.get(forms.SESSION_COOKIE, ""))
        return _see_other("/manage", forms.cookie_header(forms.SESSION_COOKIE, "", request.secure, max_age=0))
    handler = _ACTIONS.get(action) or _webhook_action(action)
    if handler is None:
        return _page(404, "Not found", "There is no such setting.", request)
    try:
        return handler(services, request, subscriber)
    except (SubscriberError, TierError) as exc:
        if isinstance(exc, ConcurrentUpdateError):
            exc = SubscriberError("your settings changed in another window at the same moment; try again")
        fresh = _fresh(services, subscriber)
        return manage_page(services, request, fresh, error=_sentence(str(exc)), status=400)


def _save(services: Services, subscriber: Subscriber, **changes: Any) -> Subscriber:
    """Save the subscriber's own edit; what it does not touch is held to the tier as fan-out holds it."""
    known = [p["id"] for p in services.platforms()]
    result = updated(subscriber, known, _categories(services), lenient=True, **changes)
    return services.subscribers.save(result, subscriber)


def _set_platforms(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    chosen = request.values("platforms")
    if not chosen:
        raise SubscriberError("choose at least one platform (to stop everything, unsubscribe)")
    _save(services, subscriber, platforms=chosen)
    return _see_other("/manage?notice=platforms")


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
    return _see_other("/manage?notice=alerts")


def _set_provisions(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    _save(services, subscriber, provisions=request.values("provisions"))
    return _see_other("/manage?notice=provisions")


def _set_phone(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    plan = tier(subscriber.tier)
    if "sms" not in plan.channels:
        raise TierError(f"the {plan.label} tier has no SMS alerts")
    phone = validate_phone(request.value("phone"))
    _limit(services, "code-subscriber", subscriber.subscriber_id)
    _limit(services, "code-phone", _keyed(services, "phone", phone))
    saved = _save(services, subscriber, phone=phone, phone_verified=False)
    code = f"{secrets.randbelow(1_000_000):06d}"
    services.accounts.put_code(saved.subscriber_id, code, phone, CODE_ATTEMPTS, CODE_SECONDS)
    try:
        services.sms.send(
            phone, f"policywatch: your code is {code}. It expires in 10 minutes. If you did not ask, ignore it."
        )
    except TransientError as exc:
        logger.warning("phone code not sent", extra={"error": _code_of(exc)})  # never the number
        raise SubscriberError("the code could not be sent just now; try again in a minute") from None
    logger.info("phone code sent", extra={"subscriber_id": saved.subscriber_id})
    return manage_page(services, request, saved, notice=f"A code is on its way to {phone}.", code_sent=True)


def _verify_phone(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    _limit(services, "verify-ip", request.client_ip)
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
    return _see_other("/manage?notice=phone-verified")


def _remove_phone(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    services.accounts.drop_code(subscriber.subscriber_id)
    _save(services, subscriber, phone=None, phone_verified=True)
    return _see_other("/manage?notice=phone-removed")


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
            return _see_other("/manage?notice=webhook-removed")
        if verb == "rotate":
            fresh = rotated(endpoint, _now(request))
            webhooks = [fresh if e.endpoint_id == endpoint_id else e for e in subscriber.webhooks]
            saved = _save(services, subscriber, webhooks=webhooks)
            notice = f"New secret for {endpoint.url}; the old one keeps signing too until {expiry_text(fresh.previous_until)}."
            return manage_page(services, request, saved, notice=notice, shown_secret=(endpoint_id, fresh.secret))
        _limit(services, "test-subscriber", subscriber.subscriber_id)
        # A short deadline: the page waits for the answer (the function's timeout is 15 s).
        outcome = send_test(
            endpoint, allowlist=services.webhook_allowlist, now=_now(request), read_timeout=5.0, deadline=5.0
        )
        logger.info("webhook test event", extra={"subscriber_id": subscriber.subscriber_id, "ok": outcome.ok})
        return manage_page(services, request, subscriber, test_outcome=(endpoint_id, outcome))

    return run


def _unsubscribe(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    if subscriber.status != "unsubscribed":
        services.subscribers.set_status(subscriber, "unsubscribed")
    return _see_other("/manage?notice=unsubscribed")


def _resubscribe(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    if subscriber.status != "active":  # the session came from a link to this address: it is confirmed
        services.subscribers.set_status(subscriber, "active")
    return _see_other("/manage?notice=resubscribed")


def _delete(services: Services, request: FormRequest, subscriber: Subscriber) -> PageResponse:
    if request.value("confirm") != "yes":
        raise SubscriberError("tick the box to confirm that everything is deleted")
    # Forget before and after removing: a delivery in flight may write its outcome in between.
    forgotten = services.deliveries.forget(subscriber.subscriber_id)
    services.accounts.drop_code(subscriber.subscriber_id)
    _retrying(services, subscriber.subscriber_id, services.subscribers.remove)  # as stored now, all of it
    forgotten = max(forgotten, services.deliveries.forget(subscriber.subscriber_id))
    services.accounts.end_session(request.cookies.get(forms.SESSION_COOKIE, ""))
    logger.info("subscriber deleted", extra={"subscriber_id": subscriber.subscriber_id, "deliveries": forgotten})
    page = _page(
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

_GET: dict[str, Callable[[Services, FormRequest], PageResponse]] = {
    "/signup": signup_form,
    "/confirm": confirm_form,
    "/manage": manage,
    "/manage/open": open_form,
}
_POST: dict[str, Callable[[Services, FormRequest], PageResponse]] = {
    "/signup": signup,
    "/confirm": confirm,
    "/manage/link": manage_link,
    "/manage/open": open_session,
}


# ------------------------------------------------------------------------- helpers


def _within(services: Services, rule: str, subject: str) -> bool:
    """Count one request under ``rule``; False when over its limit (for limits that must not show)."""
    limit = LIMITS[rule]
    return services.accounts.hit(rule, subject or "unknown", limit.count, limit.window) is None


def _address_subject(services: Services, email: str) -> str:
    """What an address is counted by: a keyed HMAC of its mailbox (a "+tag" is the same mailbox)."""
    local, _, domain = email.lower().rpartition("@")
    return _keyed(services, "address", f"{local.split('+', 1)[0]}@{domain}")


def _keyed(services: Services, kind: str, value: str) -> str:
    """A counter's subject for a personal value: HMAC-SHA256 keyed by the site's secret, never reversible."""
    return hmac.new(services.key(), f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()


def _quietly(send: Callable[[], None]) -> None:
    """Send an e-mail whose failure must not change the answer (that would tell whether an address is known).

    The failure is logged by its AWS error code only: SES's messages can name the address.
    """
    try:
        send()
    except TransientError as exc:
        logger.warning("account e-mail not sent", extra={"error": _code_of(exc)})


def _code_of(exc: Exception) -> str:
    return getattr(exc, "code", "") or type(exc).__name__


def _limit(services: Services, rule: str, subject: str) -> None:
    limit = LIMITS[rule]
    retry_after = services.accounts.hit(rule, subject or "unknown", limit.count, limit.window)
    if retry_after is not None:
        logger.info("rate limited", extra={"rule": rule})
        raise RateLimited(limit, retry_after)


def _retrying[T](services: Services, subscriber_id: str, change: Callable[[Subscriber], T]) -> T:
    """``change`` applied to the subscriber as stored, read again when another write got there first."""
    for _ in range(3):
        try:
            return change(services.subscribers.get(subscriber_id))
        except ConcurrentUpdateError:
            continue
        except TierError as exc:
            raise FormError(str(exc)) from None
        except SubscriberError:
            raise FormError("this subscription no longer exists; you can sign up again") from None
    raise FormError("your subscription was being changed at the same moment; please try again")


def _fresh(services: Services, subscriber: Subscriber) -> Subscriber:
    try:
        return services.subscribers.get(subscriber.subscriber_id)
    except SubscriberError:
        return subscriber


def _categories(services: Services) -> list[str]:
    return [c["id"] for c in services.categories()]


def _platform_name(services: Services, platform: str) -> str:
    return next((p["name"] for p in services.platforms() if p["id"] == platform), platform)


def _now(request: FormRequest) -> datetime:
    return request.now or clock.now()


def _link_fields(request: FormRequest) -> dict[str, str]:
    return {name: request.value(name) for name in ("t", "e", "sig")}


def _sentence(line: str) -> str:
    line = line.strip()
    return (line[:1].upper() + line[1:]).rstrip(".") + "." if line else line


def _mail(mailer: Mailer, sender: str, to: str, subject: str, **content: Any) -> None:
    email = Email(
        subject=subject,
        text=render_message("account.txt", **content),
        html=render_message("account.html", subject=subject, **content),
    )
    send_email(mailer, sender, to, email, unsubscribe_url=None)


def _form_page(template: str, request: FormRequest, services: Services, *, status: int = 200, **context: Any):
    """A page with forms: its CSRF token (and the cookie it is for, if the browser had none)."""
    cookie, set_cookie = forms.csrf_cookie(request)
    body = render(template, csrf=forms.csrf_token(services.key(), cookie), csrf_field=CSRF_FIELD, **context)
    headers = (("Set-Cookie", set_cookie),) if set_cookie else ()
    return PageResponse(status, body, headers=(*headers, *_PRIVATE_HEADERS), cache=PRIVATE)


def _button_page(services: Services, request: FormRequest, title: str, text: str, action: str, button: str):
    fields = {name: request.query.get(name, "") for name in ("t", "e", "sig")}
    return _form_page(
        "account.html", request, services, title=title, text=text, action=action, fields=fields, button=button
    )


def _inbox(request: FormRequest, what: str) -> PageResponse:
    return _page(
        200,
        "Check your inbox",
        f"If that address can receive mail, {what} is on its way. It may take a minute; look in spam too.",
        request,
    )


def _page(status: int, title: str, text: str, request: FormRequest) -> PageResponse:
    body = render("account.html", title=title, text=text, action=None, fields={}, button=None, csrf="", csrf_field="")
    return PageResponse(status, body, headers=_PRIVATE_HEADERS, cache=PRIVATE)


def _see_other(location: str, cookie: str | None = None) -> PageResponse:
    headers: tuple[tuple[str, str], ...] = (("Location", location), *_PRIVATE_HEADERS)
    if cookie:
        headers = (*headers, ("Set-Cookie", cookie))
    return PageResponse(303, "", headers=headers, cache=PRIVATE)


# Settings pages: never indexed, never framed, and their links never tell the next site where the reader was.
_PRIVATE_HEADERS = (("Referrer-Policy", "no-referrer"), ("X-Robots-Tag", "noindex"))


def expiry_text(value: str) -> str:
    """An ISO moment as the pages show it ("2026-12-03 14:05 UTC")."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value
