"""`policywatch deliveries|digest`: what became of each alert of a change, and the weekly digest sent now."""

from __future__ import annotations

import argparse
import json
from typing import Any

from policywatch.storage.deliveries import STATUSES, Deliveries, is_overdue
from policywatch_cli.stack import Commands, Out, Stack, tally


def register(commands: Commands) -> None:
    deliveries = commands.add_parser("deliveries", help="what became of each alert of one change")
    deliveries.add_argument("change_id")
    deliveries.add_argument("--json", action="store_true")
    deliveries.set_defaults(run=cmd_deliveries)
    digest = commands.add_parser("digest", help="send the weekly digest of the previous ISO week now")
    digest.add_argument(
        "--at", help="run as if scheduled at this ISO time, e.g. 2026-11-30T08:00:00Z: the week before its Monday"
    )
    digest.set_defaults(run=cmd_digest)


def cmd_deliveries(args: argparse.Namespace, out: Out) -> None:
    stack = Stack(args.stack)
    items = sorted(Deliveries(stack.output("DeliveriesTableName")).for_change(args.change_id), key=_recipient)
    if args.json:
        out(json.dumps(items, indent=2, default=_json_number))
        return
    if not items:
        out(f"no deliveries for change {args.change_id}")
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


def cmd_digest(args: argparse.Namespace, out: Out) -> None:
    payload = {"time": args.at} if args.at else {}
    result = Stack(args.stack).invoke("DigestFunctionName", payload)
    out(
        f"digest of week {result['week']}: {result['changes']} change(s), sent to {result['sent']} subscriber(s)"
        f" ({result['duplicates']} had it already)"
    )


def _recipient(item: dict[str, Any]) -> str:
    return f"{item.get('subscriber_id', '?')} {item.get('channel', '?')}"


def _json_number(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal."""
    return int(value) if value == int(value) else float(value)
