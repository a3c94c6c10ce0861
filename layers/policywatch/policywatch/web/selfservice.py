"""What the self-service pages share (``accounts`` and ``manage``): their services, rate limits, and page helpers.

The rate limits in force are ``LIMITS`` (docs/accounts.md lists them). Addresses and phone
numbers are counted by a keyed HMAC, never as they are.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools import Logger

from policywatch.core import clock
from policywatch.core.errors import TransientError
from policywatch.messages.render import Email
from policywatch.messages.render import render as render_message
from policywatch.notify.channels.email import send_email
from policywatch.storage.accounts import Accounts
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.outbound import Mailer, SmsSender
from policywatch.storage.subscribers import ConcurrentUpdateError, Subscribers
from policywatch.subscribers import SubscriberError
from policywatch.subscribers.model import Subscriber
from policywatch.subscribers.tiers import TierError
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


def session_subscriber(services: Services, request: FormRequest) -> Subscriber | None:
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


def within_limit(services: Services, rule: str, subject: str) -> bool:
    """Count one request under ``rule``; False when over its limit (for limits that must not show)."""
    limit = LIMITS[rule]
    return services.accounts.hit(rule, subject or "unknown", limit.count, limit.window) is None


def address_subject(services: Services, email: str) -> str:
    """What an address is counted by: a keyed HMAC of its mailbox (a "+tag" is the same mailbox)."""
    local, _, domain = email.lower().rpartition("@")
    return keyed(services, "address", f"{local.split('+', 1)[0]}@{domain}")


def keyed(services: Services, kind: str, value: str) -> str:
    """A counter's subject for a personal value: HMAC-SHA256 keyed by the site's secret, never reversible."""
    return hmac.new(services.key(), f"{kind}|{value}".encode(), hashlib.sha256).hexdigest()


def quietly(send: Callable[[], None]) -> None:
    """Send an e-mail whose failure must not change the answer (that would tell whether an address is known).

    The failure is logged by its AWS error code only: SES's messages can name the address.
    """
    try:
        send()
    except TransientError as exc:
        logger.warning("account e-mail not sent", extra={"error": code_of(exc)})


def code_of(exc: Exception) -> str:
    return getattr(exc, "code", "") or type(exc).__name__


def check_limit(services: Services, rule: str, subject: str) -> None:
    limit = LIMITS[rule]
    retry_after = services.accounts.hit(rule, subject or "unknown", limit.count, limit.window)
    if retry_after is not None:
        logger.info("rate limited", extra={"rule": rule})
        raise RateLimited(limit, retry_after)


def retrying[T](services: Services, subscriber_id: str, change: Callable[[Subscriber], T]) -> T:
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


def stored_now(services: Services, subscriber: Subscriber) -> Subscriber:
    try:
        return services.subscribers.get(subscriber.subscriber_id)
    except SubscriberError:
        return subscriber


def categories(services: Services) -> list[str]:
    return [c["id"] for c in services.categories()]


def platform_name(services: Services, platform: str) -> str:
    return next((p["name"] for p in services.platforms() if p["id"] == platform), platform)


def now_of(request: FormRequest) -> datetime:
    return request.now or clock.now()


def link_fields(request: FormRequest) -> dict[str, str]:
    return {name: request.value(name) for name in ("t", "e", "sig")}


def sentence(line: str) -> str:
    line = line.strip()
    return (line[:1].upper() + line[1:]).rstrip(".") + "." if line else line


def send_mail(mailer: Mailer, sender: str, to: str, subject: str, **content: Any) -> None:
    email = Email(
        subject=subject,
        text=render_message("account.txt", **content),
        html=render_message("account.html", subject=subject, **content),
    )
    send_email(mailer, sender, to, email, unsubscribe_url=None)


def form_page(template: str, request: FormRequest, services: Services, *, status: int = 200, **context: Any):
    """A page with forms: its CSRF token (and the cookie it is for, if the browser had none)."""
    cookie, set_cookie = forms.csrf_cookie(request)
    body = render(template, csrf=forms.csrf_token(services.key(), cookie), csrf_field=CSRF_FIELD, **context)
    headers = (("Set-Cookie", set_cookie),) if set_cookie else ()
    return PageResponse(status, body, headers=(*headers, *PRIVATE_HEADERS), cache=PRIVATE)


def button_page(services: Services, request: FormRequest, title: str, text: str, action: str, button: str):
    fields = {name: request.query.get(name, "") for name in ("t", "e", "sig")}
    return form_page(
        "account.html", request, services, title=title, text=text, action=action, fields=fields, button=button
    )


def inbox(request: FormRequest, what: str) -> PageResponse:
    return plain_page(
        200,
        "Check your inbox",
        f"If that address can receive mail, {what} is on its way. It may take a minute; look in spam too.",
        request,
    )


def plain_page(status: int, title: str, text: str, request: FormRequest) -> PageResponse:
    body = render("account.html", title=title, text=text, action=None, fields={}, button=None, csrf="", csrf_field="")
    return PageResponse(status, body, headers=PRIVATE_HEADERS, cache=PRIVATE)


def see_other(location: str, cookie: str | None = None) -> PageResponse:
    headers: tuple[tuple[str, str], ...] = (("Location", location), *PRIVATE_HEADERS)
    if cookie:
        headers = (*headers, ("Set-Cookie", cookie))
    return PageResponse(303, "", headers=headers, cache=PRIVATE)


# Settings pages: never indexed, never framed, and their links never tell the next site where the reader was.
PRIVATE_HEADERS = (("Referrer-Policy", "no-referrer"), ("X-Robots-Tag", "noindex"))


def expiry_text(value: str) -> str:
    """An ISO moment as the pages show it ("2026-12-03 14:05 UTC")."""
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return value
