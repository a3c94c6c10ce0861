"""Weekly digest for tiers without same-day alerts: one email of the week's changes."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from aws_lambda_powertools import Logger

from policywatch import clock
from policywatch.archive import Archive, parse_key, parse_stamp
from policywatch.channels.email import send_email
from policywatch.channels.render import digest_email
from policywatch.deliveries import Deliveries
from policywatch.subscribers import Subscribers
from policywatch.tiers import tier

logger = Logger(child=True)


@dataclass
class DigestRun:
    sent: list[str] = field(default_factory=list)
    empty: int = 0
    duplicates: int = 0


def changes_since(archive: Archive, platform: str, since: datetime) -> list[dict[str, Any]]:
    """Alerting change records of ``platform`` detected since ``since``, oldest first."""
    records = []
    for key in archive.keys(f"changes/{platform}/"):
        try:
            moment = parse_stamp(parse_key(key)[3])
        except ValueError:
            continue
        if moment >= since:
            record = json.loads(archive.get(key))
            if record.get("alert"):
                records.append(record)
    return records


def send_digests(
    *, archive: Archive, subscribers: Subscribers, deliveries: Deliveries, sender: str, now: datetime | None = None
) -> DigestRun:
    now = now or clock.now()
    since = now - timedelta(days=7)
    week_of = since.date().isoformat()
    digest_id = f"digest-{now.strftime('%G-W%V')}"  # one digest per subscriber per ISO week
    run = DigestRun()
    cache: dict[str, list[dict[str, Any]]] = {}
    for subscriber in subscribers.list():
        if subscriber.status != "active" or tier(subscriber.tier).same_day:
            continue
        changes = []
        for platform in subscriber.platforms:
            if platform not in cache:
                cache[platform] = changes_since(archive, platform, since)
            changes.extend(cache[platform])
        if not changes:
            run.empty += 1
            continue
        subject, text, html = digest_email(changes, week_of)
        send = partial(send_email, sender, subscriber.email, subject, text, html)
        if not deliveries.send_once(digest_id, subscriber.subscriber_id, "email", send):
            run.duplicates += 1
            continue
        run.sent.append(subscriber.subscriber_id)
    logger.info("digests sent", extra={"sent": len(run.sent), "empty": run.empty, "duplicates": run.duplicates})
    return run
