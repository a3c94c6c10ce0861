"""Web: the public pages alerts link to (change pages, archived versions, one-click unsubscribe).

Anyone on the internet can call it with anything: an unknown path is a 404 page, a wrong method
a 405, and an unexpected failure a plain 500 page (the details go to the log, never to the reader).
"""

from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch.core.errors import InputError, TransientError
from policywatch.core.links import Links
from policywatch.core.settings import check_at_cold_start
from policywatch.storage.archive import Archive
from policywatch.storage.subscribers import Subscribers
from policywatch.web import pages as web
from policywatch.web.settings import WebSettings

logger = Logger()
app = LambdaFunctionUrlResolver()
check_at_cold_start(WebSettings)

# The methods each page answers, for the 405 of any other.
_ALLOWED = (("/unsubscribe", "GET, POST"), ("/changes/", "GET"), ("/versions/", "GET"))


def _respond(page: web.PageResponse) -> Response:
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **dict(page.headers)}
    return Response(status_code=page.status, content_type=page.content_type, body=page.body, headers=headers)


def _links() -> Links:
    """Links on these pages point back here, unless the stack names a public base URL."""
    return Links(WebSettings.from_env().public_base_url or f"https://{app.current_event.request_context.domain_name}")


def _archive() -> Archive:
    return Archive(WebSettings.from_env().archive_bucket)


@app.get("/changes/<platform>/<document>/<stamp>")
def change(platform: str, document: str, stamp: str) -> Response:
    return _respond(web.change_page(_archive(), f"changes/{platform}/{document}/{stamp}", _links()))


@app.get("/versions/<platform>/<document>/<stamp>")
def version(platform: str, document: str, stamp: str) -> Response:
    return _respond(web.version_file(_archive(), f"versions/{platform}/{document}/{stamp}"))


def _unsubscribe(confirmed: bool) -> Response:
    query = app.current_event.query_string_parameters or {}
    subscriber_id, token = query.get("s", ""), query.get("t", "")
    subscribers = Subscribers(WebSettings.from_env().subscribers_table)
    action = "?" + urlencode({"s": subscriber_id, "t": token})  # shown only once the link checked out
    page = web.unsubscribe(subscribers, subscriber_id, token, confirmed=confirmed, action=action)
    if confirmed and page.status == 200:
        logger.info("unsubscribed", extra={"subscriber_id": subscriber_id})
    return _respond(page)


@app.get("/unsubscribe")
def unsubscribe_form() -> Response:
    return _unsubscribe(confirmed=False)


@app.post("/unsubscribe")
def unsubscribe() -> Response:
    return _unsubscribe(confirmed=True)


@app.not_found
def not_found(_: NotFoundError) -> Response:
    """No route: a 405 naming the methods when a page's path came with another method, else a 404 page."""
    path, method = app.current_event.path, app.current_event.http_method.upper()
    for prefix, allowed in _ALLOWED:
        if (path == prefix or (prefix.endswith("/") and path.startswith(prefix))) and method not in allowed:
            return _respond(web.method_not_allowed(allowed))
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
