"""What every form of the site shares: the request as a form sees it, CSRF, signed links, cookies.

- **CSRF**: a signed double-submit token. A form page sets a random ``pw_csrf`` cookie
  (SameSite=Lax, HttpOnly) and puts its HMAC, keyed by the site's secret, in a hidden field; a POST
  is accepted only with both, matching, and, when the browser says where the form came from
  (``Origin``), only from this site. Another site can make a browser send the cookie, but can
  neither read it nor forge its HMAC.
- **Signed links** (confirm a sign-up, open the manage page): ``?t=<token>&e=<expiry>&sig=<HMAC>``.
  The signature and the expiry are checked before anything is read, so a mangled or forged link
  costs no database read; the token is then redeemed once (``storage.accounts``).
- **Sessions**: the manage page's ``pw_session`` cookie (HttpOnly, SameSite=Lax, Secure on https),
  a random token whose hash names the subscriber in the accounts table for an hour.

Nothing here needs JavaScript: every form is a plain POST.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import parse_qs, urlencode, urlsplit

from policywatch.core.errors import InputError

CSRF_COOKIE = "pw_csrf"
SESSION_COOKIE = "pw_session"
CSRF_FIELD = "csrf"
HONEYPOT_FIELD = "website"  # hidden from people; a bot that fills every field fills it
MAX_FORM_BYTES = 16_384  # the largest form (the manage page's platforms and provisions) is far below


class FormError(InputError):
    """A form that cannot be taken as sent; its one line is shown on the page."""


@dataclass(frozen=True)
class FormRequest:
    """A request to one of the forms' pages, as the web handler read it."""

    method: str
    path: str
    query: dict[str, str]
    form: dict[str, list[str]] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    client_ip: str = ""
    origin: str = ""  # the Origin header, if the browser sent one
    base_url: str = ""
    now: datetime | None = None

    def value(self, name: str, default: str = "") -> str:
        values = self.form.get(name) or [default]
        return values[0].strip()

    def values(self, name: str) -> list[str]:
        return [v.strip() for v in self.form.get(name, []) if v.strip()]

    @property
    def secure(self) -> bool:
        return self.base_url.startswith("https://")


def parse_form(body: str) -> dict[str, list[str]]:
    """An ``application/x-www-form-urlencoded`` body; FormError when it is too big or not text."""
    if len(body.encode("utf-8", "surrogatepass")) > MAX_FORM_BYTES:
        raise FormError(f"the form is larger than {MAX_FORM_BYTES // 1024} KB")
    try:
        return parse_qs(body, keep_blank_values=True, strict_parsing=False, max_num_fields=200)
    except ValueError as exc:
        raise FormError(f"the form could not be read: {exc}") from None


def parse_cookies(raw: list[str]) -> dict[str, str]:
    """Cookies from a function URL event's ``cookies`` list ("name=value" each)."""
    found: dict[str, str] = {}
    for entry in raw:
        for part in entry.split(";"):
            name, sep, value = part.strip().partition("=")
            if sep and name and name not in found:
                found[name] = value
    return found


def client_ip(source_ip: str, forwarded_for: str) -> str:
    """The reader's address: the last ``X-Forwarded-For`` entry a proxy of ours added, else the connection's.

    CloudFront appends the viewer's address to X-Forwarded-For (and the function URL's front end
    may append CloudFront's); what a client wrote itself comes before them and is ignored.
    """
    entries = [e.strip() for e in forwarded_for.split(",") if e.strip()]
    while entries and entries[-1] == source_ip:
        entries.pop()
    return (entries[-1] if entries else source_ip)[:64]


def _mac(key: bytes, *parts: str) -> str:
    digest = hmac.new(key, "|".join(parts).encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


# ------------------------------------------------------------------------- CSRF


def csrf_cookie(request: FormRequest) -> tuple[str, str | None]:
    """The request's CSRF cookie value, and the Set-Cookie header to send when it had none."""
    value = request.cookies.get(CSRF_COOKIE, "")
    if 20 <= len(value) <= 64 and value.replace("-", "").replace("_", "").isalnum():
        return value, None
    value = secrets.token_urlsafe(24)
    return value, cookie_header(CSRF_COOKIE, value, request.secure, max_age=None)


def csrf_token(key: bytes, cookie: str) -> str:
    return _mac(key, "csrf", cookie)


def check_csrf(key: bytes, request: FormRequest) -> None:
    """FormError unless the POST carries this site's CSRF token for its cookie and, if told, came from this site."""
    if request.origin and request.base_url:
        expected = urlsplit(request.base_url)
        try:
            sent = urlsplit(request.origin)
        except ValueError:  # "https://[": not an origin at all
            raise FormError("this form was sent from an unreadable origin; open the page again") from None
        if (sent.scheme, sent.netloc) != (expected.scheme, expected.netloc):
            raise FormError("this form was sent from another site; open the page on this site and send it again")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    if not cookie:
        raise FormError("your browser did not send back this site's form cookie; allow cookies here and try again")
    if not hmac.compare_digest(csrf_token(key, cookie).encode(), request.value(CSRF_FIELD).encode()):
        raise FormError("this form has expired; reload the page and send it again")


# ------------------------------------------------------------------------- signed links


@dataclass(frozen=True)
class SignedLink:
    token: str
    expires: int

    def query(self, key: bytes, purpose: str) -> str:
        return urlencode(
            {"t": self.token, "e": str(self.expires), "sig": _mac(key, purpose, self.token, str(self.expires))}
        )


def new_link(now: datetime, ttl_seconds: int) -> SignedLink:
    return SignedLink(secrets.token_urlsafe(32), int(now.timestamp()) + ttl_seconds)


def read_link(key: bytes, purpose: str, values: dict[str, str], now: datetime) -> str:
    """The token of a signed link's ``t``, ``e`` and ``sig``; FormError saying why the link opens nothing."""
    token, expires, signature = values.get("t", ""), values.get("e", ""), values.get("sig", "")
    if not (0 < len(token) <= 64 and expires.isdigit() and len(expires) <= 12 and 0 < len(signature) <= 64):
        raise FormError("this link is incomplete; open it from the e-mail again, or copy all of it")
    if not hmac.compare_digest(_mac(key, purpose, token, expires).encode(), signature.encode()):
        raise FormError("this link is not valid; open it from the e-mail again, or copy all of it")
    if int(expires) < now.timestamp():
        raise FormError("this link has expired; ask for a new one")
    return token


# ------------------------------------------------------------------------- cookies


def cookie_header(name: str, value: str, secure: bool, max_age: int | None) -> str:
    """A Set-Cookie value: HttpOnly, SameSite=Lax, for the whole site; Secure (and __Host-safe) on https."""
    parts = [f"{name}={value}", "Path=/", "HttpOnly", "SameSite=Lax"]
    if max_age is not None:
        parts.append(f"Max-Age={max_age}")
    if secure:
        parts.append("Secure")
    return "; ".join(parts)


def new_session_token() -> str:
    return secrets.token_urlsafe(32)
