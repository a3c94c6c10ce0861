"""The public pages alerts link to: a change, an archived version, one-click unsubscribe.

- ``/changes/{platform}/{document}/{stamp}``: the change as the alert shows it, with its evidence.
- ``/versions/{platform}/{document}/{stamp}.md``: an archived version exactly as recorded, with its
  SHA-256 in ``X-Content-SHA256`` so a reader can check what they cite.
- ``/unsubscribe?s=<subscriber>&t=<token>``: GET shows a button (mail scanners follow links, and
  must not unsubscribe anyone); POST unsubscribes (RFC 8058 one-click, from the List-Unsubscribe header).

Only these keys are served: the archive's snapshots and anything else stay private.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace

from policywatch.archive import Archive
from policywatch.changes import event_from_record
from policywatch.channels.render import alert_email, render
from policywatch.links import Links
from policywatch.subscribers import SubscriberError, Subscribers
from policywatch.tiers import tier

_PART = r"[a-z0-9][a-z0-9-]{0,80}"
_STAMP = r"\d{4}-\d{2}-\d{2}T\d{6}\.\d{3}Z"
CHANGE_PATH = re.compile(rf"^changes/{_PART}/{_PART}/{_STAMP}$")
VERSION_PATH = re.compile(rf"^versions/{_PART}/{_PART}/{_STAMP}\.md$")


@dataclass(frozen=True)
class Page:
    status: int
    body: str
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _message(status: int, title: str, text: str, form_action: str | None = None) -> Page:
    return Page(status, render("page.html", title=title, text=text, form_action=form_action))


def change_page(archive: Archive, path: str, links: Links) -> Page:
    """The change at ``changes/...`` (no extension), as a Watcher alert shows it, plus the evidence."""
    if not CHANGE_PATH.match(path):
        return _message(404, "Not found", "There is no such change.")
    record_key = path + ".json"
    raw = archive.get_optional(record_key)
    if raw is None:
        return _message(404, "Not found", "There is no such change.")
    change = event_from_record(json.loads(raw), record_key)
    # The public page shows what a Watcher alert shows, and the evidence (it is a public record).
    plan = replace(tier("watcher"), evidence_in_alerts=True)
    return Page(200, alert_email(change, plan, links).for_recipient(None).html)


def version_file(archive: Archive, path: str) -> Page:
    if not VERSION_PATH.match(path):
        return _message(404, "Not found", "There is no such version.")
    head = archive.head(path)
    if head is None:
        return _message(404, "Not found", "There is no such version.")
    text = archive.get(path).decode()
    sha = head.get("Metadata", {}).get("sha256", "")
    return Page(200, text, "text/markdown; charset=utf-8", (("X-Content-SHA256", sha),))


def unsubscribe(subscribers: Subscribers, subscriber_id: str, token: str, *, confirmed: bool, action: str) -> Page:
    """GET (``confirmed=False``) asks; POST unsubscribes. Either way the link is checked first."""
    try:
        subscriber = subscribers.by_token(subscriber_id, token)
    except SubscriberError as exc:
        return _message(404, "Link not valid", str(exc))
    if subscriber.status == "unsubscribed":
        return _message(200, "Unsubscribed", "You are unsubscribed: policywatch sends you nothing more.")
    if not confirmed:
        return _message(
            200, "Unsubscribe", "Stop every policywatch alert and digest to this address?", form_action=action
        )
    subscribers.set_status(subscriber, "unsubscribed")
    return _message(200, "Unsubscribed", "You are unsubscribed: policywatch sends you nothing more.")
