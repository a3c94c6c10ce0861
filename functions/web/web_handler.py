"""Web: the public site (pages, feeds, JSON API), archived versions and one-click unsubscribe.

CloudFront sits in front (template.yaml ``SiteDistribution``) and keeps each answer as long as
its Cache-Control says; every 200 carries an ETag, and a request whose If-None-Match matches it
gets a 304. Anyone on the internet can call it with anything: an unknown path is a 404 page, a
wrong method a 405, and an unexpected failure a plain 500 page (the details go to the log,
never to the reader).
"""

from __future__ import annotations

import hashlib
from functools import cache
from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core import clock
from policywatch.core.errors import InputError, TransientError
from policywatch.core.outbound import parse_allowlist
from policywatch.core.settings import check_at_cold_start
from policywatch.storage.accounts import Accounts
from policywatch.storage.archive import Archive
from policywatch.storage.deliveries import Deliveries
from policywatch.storage.documents import DocumentStates
from policywatch.storage.outbound import Mailer, SmsSender
from policywatch.storage.parameters import ParameterStore
from policywatch.storage.secrets import SecretStore
from policywatch.storage.site import SiteIndex
from policywatch.storage.subscribers import Subscribers
from policywatch.web import accounts, api, audit, billing, feeds, forms, selfservice, signed, views
from policywatch.web import pages as web
from policywatch.web.request import Request
from policywatch.web.settings import WebSettings
from policywatch.web.site import Site

logger = Logger()
app = LambdaFunctionUrlResolver()
check_at_cold_start(WebSettings)

# The methods each path answers, for the 405 of any other.
_ALLOWED = (("/unsubscribe", "GET, POST"),)
_ROUTERS = (api.route, feeds.route, views.route)


@cache
def _site() -> Site:
    """One per warm function: it keeps the catalog and the documents' health for a minute."""
    settings = WebSettings.from_env()
    return Site(
        SiteIndex(settings.site_table), Archive(settings.archive_bucket), DocumentStates(settings.documents_table)
    )


@cache
def _services() -> selfservice.Services:
    """What the sign-up and manage forms use; the signing key is read from Secrets Manager when first needed."""
    settings = WebSettings.from_env()
    secrets = SecretStore()
    return selfservice.Services(
        subscribers=Subscribers(settings.subscribers_table),
        accounts=Accounts(settings.accounts_table),
        deliveries=Deliveries(settings.deliveries_table),
        mailer=Mailer(),
        sms=SmsSender(),
        key=lambda: secrets.get(settings.site_secret).encode(),
        sender=settings.sender_email,
        platforms=lambda: [{"id": p["id"], "name": p["name"]} for p in _site().platforms()],
        categories=_site().categories,
        webhook_allowlist=parse_allowlist(settings.webhook_http_allowlist),
    )


def _respond(page: web.PageResponse) -> Response:
    cookies = [value for name, value in page.headers if name == "Set-Cookie"]
    headers = {
        "Cache-Control": page.cache if page.status == 200 else web.PRIVATE,
        "X-Content-Type-Options": "nosniff",
        **{name: value for name, value in page.headers if name != "Set-Cookie"},
    }
    body = page.body
    if page.status == 200 and app.current_event.http_method.upper() in ("GET", "HEAD"):
        etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"'
        headers["ETag"] = etag
        if etag in (app.current_event.headers.get("if-none-match") or ""):
            return Response(status_code=304, headers=headers, body="")
    if app.current_event.http_method.upper() == "HEAD":
        body = ""
    # Powertools writes each cookie as str(cookie) into the function URL's "cookies" (one Set-Cookie each).
    return Response(
        status_code=page.status,
        content_type=page.content_type,
        body=body,
        headers=headers,
        cookies=cookies,  # type: ignore[arg-type]
    )


def _base_url() -> str:
    """The site's address: the stack's public base URL, else the one it published, else this request's host."""
    settings = WebSettings.from_env()
    published = _published_base_url(settings.public_base_url_parameter) if not settings.public_base_url else ""
    return (settings.public_base_url or published).rstrip("/") or (
        f"https://{app.current_event.request_context.domain_name}"
    )


_published: dict[str, str] = {}


def _published_base_url(name: str) -> str:
    """The address the stack published (CloudFront's, when PublicBaseUrl is not set), kept once found."""
    if not name:
        return ""
    if name not in _published:
        value = ParameterStore().get(name)
        if value is None:  # not written yet (the stack is still being created): ask again next time
            return ""
        _published[name] = value
    return _published[name]


def _subscribers() -> Subscribers:
    return Subscribers(WebSettings.from_env().subscribers_table)


def _unsubscribe(confirmed: bool) -> Response:
    query = app.current_event.query_string_parameters or {}
    subscriber_id, token = query.get("s", ""), query.get("t", "")
    action = "?" + urlencode({"s": subscriber_id, "t": token})  # shown only once the link checked out
    page = web.unsubscribe(_subscribers(), subscriber_id, token, confirmed=confirmed, action=action)
    if confirmed and page.status == 200:
        logger.info("unsubscribed", extra={"subscriber_id": subscriber_id})
    return _respond(page)


@app.get("/unsubscribe")
def unsubscribe_form() -> Response:
    return _unsubscribe(confirmed=False)


@app.post("/unsubscribe")
def unsubscribe() -> Response:
    return _unsubscribe(confirmed=True)


# Registered before the catch-all below: Powertools tries routes without parameters in the order written.
@app.route("/evidence/.+", method=["GET", "HEAD"])
def evidence_file() -> Response:
    """A signed checkpoint, its signature or the public key, byte for byte (``pages.evidence_file``)."""
    found = web.evidence_file(_site().archive, app.current_event.path)
    if isinstance(found, web.PageResponse):
        return _respond(found)
    etag = '"' + found.sha256[:32] + '"'
    headers = {"Cache-Control": found.cache, "X-Content-Type-Options": "nosniff", "ETag": etag}
    headers["X-Content-SHA256"] = found.sha256
    if etag in (app.current_event.headers.get("if-none-match") or ""):
        return Response(status_code=304, headers=headers, body="")
    # A signature is bytes (sent base64-encoded, as function URLs take binary); JSON and PEM are text.
    body = found.body if found.content_type == "application/octet-stream" else found.body.decode()
    head = app.current_event.http_method.upper() == "HEAD"
    return Response(status_code=200, content_type=found.content_type, body=body[:0] if head else body, headers=headers)


@app.route(".+", method=["GET", "HEAD"])
def site_page() -> Response:
    return _site_page()


@app.route(".+", method=["POST"])
def form_post() -> Response:
    """A form (sign-up, confirmation, the manage page) or the billing endpoint; any other path answers 405."""
    event = app.current_event
    if event.path == billing.PATH:
        settings = WebSettings.from_env()
        secret = SecretStore().get(settings.billing_secret)
        headers = {k.lower(): v for k, v in (event.headers or {}).items()}
        try:
            body = event.decoded_body or ""
        except UnicodeDecodeError:
            return _respond(billing.refusal(400, "the body is not UTF-8 JSON"))
        return _respond(billing.set_tier(_subscribers(), secret, headers, body))
    page = accounts.route(_services(), _form_request())
    return _respond(page if page is not None else web.method_not_allowed("GET, HEAD"))


def _form_request() -> forms.FormRequest:
    event = app.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    form: dict[str, list[str]] = {}
    if event.http_method.upper() == "POST":
        content_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            raise forms.FormError("this page takes a form (application/x-www-form-urlencoded)")
        try:
            form = forms.parse_form(event.decoded_body or "")
        except UnicodeDecodeError:
            raise forms.FormError("the form is not UTF-8 text") from None
    return forms.FormRequest(
        method=event.http_method.upper(),
        path=event.path or "/",
        query={k: v for k, v in (event.query_string_parameters or {}).items() if isinstance(v, str)},
        form=form,
        # AWS gives a function URL's cookies in "cookies"; a Cookie header (MiniStack) says the same.
        cookies=forms.parse_cookies(list(event.get("cookies") or []) + [headers.get("cookie", "")]),
        client_ip=forms.client_ip(event.request_context.http.source_ip, headers.get("x-forwarded-for", "")),
        origin=headers.get("origin", ""),
        base_url=_base_url(),
        now=clock.now(),
    )


@app.route("/", method=["GET", "HEAD"])
def home() -> Response:
    return _site_page()


def _site_page() -> Response:
    """A page, feed or API answer: the first router that knows the path answers it."""
    event = app.current_event
    path = event.path or "/"
    for prefix, allowed in _ALLOWED:  # a HEAD of a page that answers only GET and POST
        if path == prefix:
            return _respond(web.method_not_allowed(allowed))
    query = {k: v for k, v in (event.query_string_parameters or {}).items() if isinstance(v, str)}
    method = event.http_method.upper()
    now = clock.now()
    pro, pro_query = None, ""
    if path.startswith("/pro/"):
        checked = signed.check(_subscribers(), path, query, now)
        if isinstance(checked, str):
            return _respond(web.message(403, "Link not valid", checked))
        pro, pro_query = checked, signed.query_of(query)
        if path.startswith("/pro/evidence/"):
            return _audit_pack(path)
    if method in ("GET", "HEAD") and accounts.owns(path):
        form_page = accounts.route(_services(), _form_request())
        if form_page is not None:
            return _respond(form_page)
    request = Request(method, path, query, _base_url(), now, pro, pro_query)
    site = _site()
    for route in _ROUTERS:
        page = route(site, request)
        if page is not None:
            return _respond(page)
    return _respond(web.not_found("page"))


def _audit_pack(path: str) -> Response:
    """A change's audit pack, as a zip download (Professional; the link was checked by the caller)."""
    status, made = audit.pack(Archive(WebSettings.from_env().archive_bucket), path)
    if isinstance(made, str):
        return _respond(web.message(status, "No audit pack", made))
    name = path.rsplit("/", 3)
    filename = f"policywatch-{name[-3]}-{name[-2]}-{name[-1]}"
    body = b"" if app.current_event.http_method.upper() == "HEAD" else made
    headers = {
        "Cache-Control": web.PRIVATE,
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Content-Type-Options": "nosniff",
    }
    return Response(status_code=200, content_type="application/zip", body=body, headers=headers)


@app.not_found
def not_found(_: NotFoundError) -> Response:
    """No route: a 405 naming the methods when a page's path came with another method, else a 404 page."""
    path, method = app.current_event.path, app.current_event.http_method.upper()
    for prefix, allowed in _ALLOWED:
        if path == prefix and method not in allowed:
            return _respond(web.method_not_allowed(allowed))
    if accounts.owns(path):  # a form's page: GET shows it, POST sends it
        return _respond(web.method_not_allowed("GET, HEAD, POST"))
    if method not in ("GET", "HEAD"):
        return _respond(web.method_not_allowed("GET, HEAD"))
    return _respond(web.not_found("page"))


@app.exception_handler(InputError)
def refused(exc: InputError) -> Response:
    """What the request asked for cannot be: its one line, as a 400 page."""
    logger.info("web request refused", extra={"error": type(exc).__name__})
    return _respond(web.bad_request(str(exc).splitlines()[0]))


@app.exception_handler(TransientError)
def unavailable(exc: TransientError) -> Response:
    logger.warning("web request failed for now", extra={"error": type(exc).__name__, "detail": str(exc)})
    return _respond(web.unavailable())


@app.exception_handler(Exception)
def failed(exc: Exception) -> Response:
    logger.exception("web request failed", extra={"error": type(exc).__name__})
    return _respond(web.server_error())


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    try:
        return app.resolve(event, context)
    except Exception:  # an event the resolver could not even read: still a page, never a crash
        logger.exception("web request could not be routed")
        page = web.server_error()
        return {"statusCode": page.status, "headers": {"Content-Type": page.content_type}, "body": page.body}
