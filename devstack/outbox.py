"""The emails and SMS that MiniStack recorded: ``python -m devstack.outbox [--full] [--json]``.

MiniStack sends nothing: it keeps what SES and SNS were asked to send, behind its own (private)
``/_ministack/ses/messages`` and ``/_ministack/sns/sms-messages`` endpoints, at ``AWS_ENDPOINT_URL``
(``source .local/env`` sets it for the local stack). Real AWS has no such thing.

An alert's change id (its ``X-Policywatch-Change`` header, which MiniStack does not keep) is read
from its text's ``Change id:`` line and listed under it: ``policywatch deliveries`` takes it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from typing import Any

import requests

_CHANGE_ID = re.compile(r"^Change id: +(\S+)$", re.MULTILINE)


class OutboxError(Exception):
    """The outbox cannot be read: one line for the operator."""


def outbox(endpoint: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Emails and SMS that MiniStack recorded, oldest first."""
    base = endpoint.rstrip("/")
    try:
        ses = requests.get(f"{base}/_ministack/ses/messages", timeout=10).json()
        sns = requests.get(f"{base}/_ministack/sns/sms-messages", timeout=10).json()
    except (requests.RequestException, ValueError) as exc:
        raise OutboxError(f"cannot read MiniStack's outbox at {base}: {exc}") from None
    emails = [m for account in ses.get("messages", {}).values() for m in account]
    sms = [m for records in sns.get("sms_messages", {}).values() for m in records]
    return sorted(emails, key=lambda m: m.get("Timestamp", 0)), sms


def show(args: argparse.Namespace, out: Callable[[str], None]) -> None:
    """Print the outbox as ``policywatch outbox`` did."""
    endpoint = os.environ.get("AWS_ENDPOINT_URL")
    if not endpoint:
        raise OutboxError("outbox shows what MiniStack recorded: set AWS_ENDPOINT_URL (source .local/env)")
    emails, sms = outbox(endpoint)
    for m in emails:
        if found := _CHANGE_ID.search(m.get("BodyText") or ""):
            m["change_id"] = found.group(1)
    if args.json:
        out(json.dumps({"emails": emails, "sms": sms}, indent=2, ensure_ascii=False))
        return
    out(f"{len(emails)} email(s)")
    for m in emails:
        out(f"  to {', '.join(m['To'])}: {m['Subject']}")
        if m.get("change_id"):
            out(f"    change {m['change_id']}")
        if args.full:
            out("    " + m["BodyText"].replace("\n", "\n    "))
    out(f"{len(sms)} SMS")
    for m in sms:
        out(f"  to {m['PhoneNumber']}: {m['Message']}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.outbox", description="emails and SMS that MiniStack recorded"
    )
    parser.add_argument("--full", action="store_true", help="print the email bodies too")
    parser.add_argument("--json", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        show(args, print)
    except BrokenPipeError:  # `python -m devstack.outbox --full | head`
        sys.stderr.close()
    except OutboxError as exc:
        print(f"outbox: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
