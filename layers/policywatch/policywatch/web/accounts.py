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

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.storage.accounts import Accounts
from policywatch.storage.outbound import Mailer
from policywatch.storage.subscribers import AddressTakenError, ConcurrentUpdateError
from policywatch.subscribers import SubscriberError
from policywatch.subscribers.model import (
    Subscriber,
    new_subscriber,
    updated,
    validate_email,
)
from policywatch.subscribers.tiers import tier
from policywatch.web import forms
from policywatch.web.forms import FormError, FormRequest
from policywatch.web.manage import NOTICES, manage_action, manage_page
from policywatch.web.pages import PageResponse
from policywatch.web.selfservice import (
    CONFIRM_LINK_SECONDS,
    MANAGE_LINK_SECONDS,
    SESSION_SECONDS,
    SIGNUP_TIER,
    UNCONFIRMED_SECONDS,
    RateLimited,
    Services,
    address_subject,
    button_page,
    categories,
    check_limit,
    form_page,
    inbox,
    link_fields,
    now_of,
    plain_page,
    platform_name,
    quietly,
    retrying,
    see_other,
    send_mail,
    sentence,
    session_subscriber,
    within_limit,
)


def owns(path: str) -> bool:
    """True for the self-service paths (their GETs are answered here, not by the site's views)."""
    path = path.rstrip("/") or "/"
    return path in _GET or path in _POST or path.startswith("/manage/")


logger = Logger(child=True)


def route(services: Services, request: FormRequest) -> PageResponse | None:
    """The answer to a self-service path, or None when the path is not one of these."""
    path = request.path.rstrip("/") or "/"
    handler = _GET.get(path) if request.method in ("GET", "HEAD") else None
    if request.method == "POST":
        handler = _POST.get(path)
        if handler is None and path.startswith("/manage/"):
            handler = manage_action
    if handler is None:
        if path in _GET or path in _POST or path.startswith("/manage/"):
            allowed = ", ".join(m for m, table in (("GET", _GET), ("POST", _POST)) if path in table) or "POST"
            return plain_page(405, "Method not allowed", f"This page answers {allowed} only.", request)
        return None
    try:
        if request.method == "POST":
            forms.check_csrf(services.key(), request)
        return handler(services, request)
    except RateLimited as exc:
        page = plain_page(429, "Too many requests", sentence(str(exc)), request)
        return replace(page, headers=(*page.headers, ("Retry-After", str(exc.retry_after))))
    except FormError as exc:
        return plain_page(400, "That did not work", sentence(str(exc)), request)


def signup_form(services: Services, request: FormRequest, error: str = "", status: int = 200) -> PageResponse:
    chosen = request.value("platform") or request.query.get("platform", "")
    return form_page(
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
        return inbox(request, "a confirmation link")
    try:
        email = validate_email(request.value("email"))
        platform = request.value("platform")
        known = {p["id"] for p in services.platforms()}
        if platform not in known:
            raise SubscriberError("choose a platform to watch" if not platform else f"unknown platform {platform!r}")
    except SubscriberError as exc:
        return signup_form(services, request, error=sentence(str(exc)), status=400)
    check_limit(services, "signup-ip", request.client_ip)
    check_limit(services, "signup-address", address_subject(services, email))
    existing = services.subscribers.by_email(email)
    if existing is None:
        try:
            made = new_subscriber(email=email, tier_id=SIGNUP_TIER, platforms=[platform], known_platforms=known)
            expires = int(now_of(request).timestamp()) + UNCONFIRMED_SECONDS
            existing = services.subscribers.add(replace(made, expires_at=expires))
            logger.info("signed up", extra={"subscriber_id": existing.subscriber_id})
        except AddressTakenError:  # the same address signed up at the same moment
            existing = services.subscribers.by_email(email)
    if existing is not None:
        found = existing
        if found.status == "active":
            # Already in: a manage link, which says so, instead. It counts against the address's
            # manage links too, silently: a refusal here would say the address is subscribed.
            if within_limit(services, "link-address", address_subject(services, email)):
                quietly(lambda: _send_manage_link(services, request, found, already=True))
        else:
            quietly(lambda: _send_confirmation(services, request, _unexpired(services, request, found), platform))
    return inbox(request, "a confirmation link")


def _unexpired(services: Services, request: FormRequest, subscriber: Subscriber) -> Subscriber:
    """A pending sign-up kept a week from now again, so the new link does not outlive it."""
    if not subscriber.expires_at:
        return subscriber
    expires = int(now_of(request).timestamp()) + UNCONFIRMED_SECONDS
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
        platform_name(services, platform),
        now_of(request),
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
    send_mail(
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
    forms.read_link(services.key(), "confirm", request.query, now_of(request))
    return button_page(services, request, "Confirm your subscription", "One click confirms it.", "/confirm", "Confirm")


def confirm(services: Services, request: FormRequest) -> PageResponse:
    token = forms.read_link(services.key(), "confirm", link_fields(request), now_of(request))
    check_limit(services, "open-ip", request.client_ip)
    redeemed = services.accounts.redeem(token, "confirm")
    if redeemed is None:
        raise FormError("this link was used already or has expired; sign up again for a new one")
    subscriber = retrying(services, redeemed.subject, lambda s: _confirmed(services, s, redeemed.data))
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
        subscriber, known, categories(services), lenient=True, platforms=platforms, status="active", expires_at=0
    )
    return services.subscribers.save(result, subscriber)


def manage(services: Services, request: FormRequest) -> PageResponse:
    subscriber = session_subscriber(services, request)
    if subscriber is None:
        return form_page("manage_link.html", request, services, title="Manage your subscription", email="", error="")
    return manage_page(services, request, subscriber, notice=NOTICES.get(request.query.get("notice", ""), ""))


def manage_link(services: Services, request: FormRequest) -> PageResponse:
    try:
        email = validate_email(request.value("email"))
    except SubscriberError as exc:
        return form_page(
            "manage_link.html",
            request,
            services,
            status=400,
            title="Manage your subscription",
            email=request.value("email"),
            error=sentence(str(exc)),
        )
    check_limit(services, "link-ip", request.client_ip)
    check_limit(services, "link-address", address_subject(services, email))
    subscriber = services.subscribers.by_email(email)
    if subscriber is not None:
        found = subscriber
        quietly(lambda: _send_manage_link(services, request, found, already=False))
    else:  # mail either way: the same work and the same answer, whether the address is known or not
        quietly(lambda: _send_not_subscribed(services, request, email))
    return inbox(request, "a link to your settings")


def _send_not_subscribed(services: Services, request: FormRequest, email: str) -> None:
    send_mail(
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
    link = forms.new_link(now_of(request), MANAGE_LINK_SECONDS)
    services.accounts.put_link(link.token, "manage", subscriber.subscriber_id, MANAGE_LINK_SECONDS)
    url = f"{request.base_url}/manage/open?{link.query(services.key(), 'manage')}"
    first = (
        "This address is already subscribed to policywatch; nothing changed."
        if already
        else "Someone, hopefully you, asked for a link to this address's policywatch settings."
    )
    send_mail(
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
    forms.read_link(services.key(), "manage", request.query, now_of(request))
    return button_page(
        services, request, "Open your settings", "One click opens them for an hour.", "/manage/open", "Open my settings"
    )


def open_session(services: Services, request: FormRequest) -> PageResponse:
    token = forms.read_link(services.key(), "manage", link_fields(request), now_of(request))
    check_limit(services, "open-ip", request.client_ip)
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
    return see_other("/manage" + (f"?notice={notice}" if notice else ""), cookie)


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
