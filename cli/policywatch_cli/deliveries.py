"""`policywatch deliveries|digest`: what became of each alert of a change, and the weekly digest sent now.

A change is named by its id (in an alert's ``X-Policywatch-Change`` header and text, on its change
page, in ``policywatch status``) or by its change page's address, as the alert links to it.
"""

from __future__ import annotations

import argparse
import json
import time
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from policywatch.core import clock
from policywatch.core.errors import InputError
from policywatch.core.links import Links
from policywatch.messages.render import pro_path
from policywatch.storage.archive import parse_key
from policywatch.storage.deliveries import STATUSES, Deliveries, is_overdue
from policywatch.storage.fanouts import FanOuts, complete
from policywatch.web.views import STAMP
from policywatch_cli.stack import CliError, Commands, Out, Stack, tally

EXAMPLE_PAGE = "http://127.0.0.1:8767/changes/anthropic/privacy-policy/2025-08-29T003202.123Z"


def register(commands: Commands) -> None:
    deliveries = commands.add_parser("deliveries", help="what became of each alert of one change")
    deliveries.add_argument(
        "change", metavar="CHANGE", help="a change id, or its change page's address (/changes/... or /pro/changes/...)"
    )
    deliveries.add_argument("--json", action="store_true")
    deliveries.set_defaults(run=cmd_deliveries)
    digest = commands.add_parser("digest", help="send the weekly digest of the previous ISO week now")
    week = digest.add_mutually_exclusive_group()
    week.add_argument(
        "--at", help="run as if scheduled at this ISO time, e.g. 2026-11-30T08:00:00Z: the week before its Monday"
    )
    week.add_argument(
        "--this-week",
        action="store_true",
        help="this week so far, now (to try it out: Monday's scheduled run then skips everyone it reached, "
        "so their later changes of this week get no digest)",
    )
    digest.add_argument(
        "--wait", type=float, default=300, metavar="SECONDS", help="how long to wait for its pages to be sent (300)"
    )
    digest.set_defaults(run=cmd_digest)


def cmd_deliveries(args: argparse.Namespace, out: Out) -> None:
    stack = Stack(args.stack)
    key = record_key(args.change)
    change_id = args.change if key is None else _change_id(stack, args.change, key)
    table = stack.output("DeliveriesTableName")
    items = sorted(Deliveries(table).for_change(change_id), key=_recipient)
    summary = FanOuts(table).summary(change_id)
    if summary is not None:
        summary.pop("event", None)  # the change event itself: `policywatch` shows the change elsewhere
    if args.json:
        out(json.dumps({"fan_out": summary, "deliveries": items}, indent=2, default=_json_number))
        return
    if not items and summary is None:
        out(f"no deliveries for change {change_id}")
        return
    if key is not None:
        out(f"change {change_id}")
    if summary is not None:
        out(fan_out_line(summary))
    if not items:
        return
    out(f"{'RECIPIENT':<44} {'STATUS':<10} {'ATTEMPTS':>8}  {'WHEN':<26} DETAIL")
    for item in items:
        status = item.get("status", "?")
        if status == "sent":
            when = item.get("sent_at", "")
        elif status == "retrying" and item.get("next_attempt_at"):
            when = "next " + item["next_attempt_at"]
        else:
            when = item.get("updated_at", "")
        detail = item.get("last_error") if status in ("retrying", "failed") else None
        detail = detail or item.get("detail") or item.get("message_id") or ""
        if is_overdue(item):  # in flight past its time: a crash, or a retry job that never came
            detail = f"STUCK: {status} past {item.get('overdue_at')}; the reconciler settles it. {detail}".strip()
        out(f"{_recipient(item):<44} {status:<10} {int(item.get('attempts', 0)):>8}  {when:<26} {detail}")
    statuses = tally((i.get("status", "?") for i in items), STATUSES)
    out(f"{len(items)} deliver{'ies' if len(items) != 1 else 'y'}: {statuses}")


def fan_out_line(summary: dict[str, Any]) -> str:
    """How far a fan-out has come, in one line: its pages, and what they did."""
    done, started = int(summary.get("pages_done", 0)), int(summary.get("pages_started", 0))
    chains, ended = int(summary.get("chains", 1)), int(summary.get("chains_ended", 0))
    counted = ", ".join(
        f"{int(summary[name]):,} {label}"
        for name, label in _COUNTED
        if int(summary.get(name, 0)) or name in ("watchers", "sent")
    )
    if complete(summary):
        when = summary.get("completed_at") or summary.get("updated_at", "")
        state = f"complete at {when}: {done} page{'s' if done != 1 else ''}"
    else:
        state = f"in progress: {done} of {started} page{'s' if started != 1 else ''} done"
        if ended < chains:
            state += f", more to come ({chains - ended} of {chains} platform{'s' if chains != 1 else ''} still paging)"
    return f"fan-out {state}; {counted}"


_COUNTED = (
    ("watchers", "subscribers read"),
    ("sent", "sent"),
    ("duplicates", "already sent"),
    ("retrying", "retrying"),
    ("handed_over", "handed to the delivery queue"),
    ("failed", "failed"),
    ("deferred_to_digest", "left for the digest"),
    ("not_entitled", "not entitled"),
    ("other_platform", "sent from another platform's pages"),
)


def record_key(change: str) -> str | None:
    """The record (``changes/...json``) of the change page ``change`` is the address of, or None
    for a bare change id. Any host, a ``/pro`` view and a query string are allowed; any other
    address is a CliError naming it."""
    if "/" not in change:
        return None
    path = unquote(urlsplit(change).path)
    key = path.removeprefix("/pro/").lstrip("/") + ".json"
    try:
        kind, _, _, stamp = parse_key(key)
    except InputError:
        kind = stamp = ""
    # The inverse of how alerts and the site write the addresses: the page, or its Professional view.
    page = unquote(urlsplit(Links("http://host").change(key) or "").path)
    pro = "/" + (pro_path({"record_key": key}) or "")
    if kind != "changes" or not STAMP.match(stamp) or path not in (page, pro):
        raise CliError(f"{change} is not a change page's address nor a change id (pages look like {EXAMPLE_PAGE})")
    return key


def _change_id(stack: Stack, change: str, key: str) -> str:
    raw = stack.archive().get_optional(key)
    if raw is None:
        raise CliError(f"no change recorded at {change} (the archive has no {key})")
    return str(json.loads(raw)["change_id"])


def cmd_digest(args: argparse.Namespace, out: Out) -> None:
    at = args.at
    if args.this_week:  # as if run next Monday: the week that ends then is this one
        today = clock.now().replace(hour=0, minute=0, second=0, microsecond=0)
        at = clock.iso(today + timedelta(days=7 - today.weekday()))
    payload = {"time": at} if at else {}
    stack = Stack(args.stack)
    planned = stack.invoke("DigestFunctionName", payload)
    platforms = planned["platforms"]
    out(
        f"digest of week {planned['week']}: {planned['changes']} change(s), "
        f"{len(platforms)} platform(s) with something to list"
    )
    fanouts = FanOuts(stack.output("DeliveriesTableName"))
    waited_until = time.monotonic() + args.wait
    while (summary := fanouts.summary(planned["fanout"])) is not None and not complete(summary):
        if time.monotonic() >= waited_until:
            out(fan_out_line(summary))
            out(f"still sending: `policywatch deliveries {planned['fanout']}` shows how far it has come")
            return
        time.sleep(1)
    if summary is not None:
        out(fan_out_line(summary))


def _recipient(item: dict[str, Any]) -> str:
    return f"{item.get('subscriber_id', '?')} {item.get('channel', '?')}"


def _json_number(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal."""
    return int(value) if value == int(value) else float(value)
