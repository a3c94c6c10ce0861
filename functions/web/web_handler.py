"""Web: the public pages alerts link to (change pages, archived versions, one-click unsubscribe)."""

from urllib.parse import urlencode

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import LambdaFunctionUrlResolver, Response
from aws_lambda_powertools.utilities.typing import LambdaContext

from policywatch import web
from policywatch.archive import Archive
from policywatch.config import require, settings
from policywatch.links import Links
from policywatch.subscribers import Subscribers

logger = Logger()
app = LambdaFunctionUrlResolver()


def _respond(page: web.Page) -> Response:
    headers = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", **dict(page.headers)}
    return Response(status_code=page.status, content_type=page.content_type, body=page.body, headers=headers)


def _links() -> Links:
    """Links on these pages point back here, unless the stack names a public base URL."""
    return Links(settings().public_base_url or f"https://{app.current_event.request_context.domain_name}")


def _archive() -> Archive:
    return Archive(require(settings().archive_bucket, "ARCHIVE_BUCKET"))


@app.get("/changes/<platform>/<document>/<stamp>")
def change(platform: str, document: str, stamp: str) -> Response:
    return _respond(web.change_page(_archive(), f"changes/{platform}/{document}/{stamp}", _links()))


@app.get("/versions/<platform>/<document>/<stamp>")
def version(platform: str, document: str, stamp: str) -> Response:
    return _respond(web.version_file(_archive(), f"versions/{platform}/{document}/{stamp}"))


def _unsubscribe(confirmed: bool) -> Response:
    query = app.current_event.query_string_parameters or {}
    subscribers = Subscribers(require(settings().subscribers_table, "SUBSCRIBERS_TABLE"))
    action = "?" + urlencode({"s": query.get("s", ""), "t": query.get("t", "")})
    page = web.unsubscribe(subscribers, query.get("s", ""), query.get("t", ""), confirmed=confirmed, action=action)
    if confirmed and page.status == 200:
        logger.info("unsubscribed", extra={"subscriber_id": query.get("s", "")})
    return _respond(page)


@app.get("/unsubscribe")
def unsubscribe_form() -> Response:
    return _unsubscribe(confirmed=False)


@app.post("/unsubscribe")
def unsubscribe() -> Response:
    return _unsubscribe(confirmed=True)


@logger.inject_lambda_context
def handler(event: dict, context: LambdaContext) -> dict:
    return app.resolve(event, context)
