"""Fan-out ledgers: how far a change's (or a week's digest's) fan-out has come, page by page.

A fan-out walks the ``by-platform`` index of each platform it covers (its *chains*: one for an
alert, one per platform for the digest) a page at a time; each page is a job on the fan-out
queue, done by whichever function instance receives it. The ledger lives in the deliveries
table, under the fan-out's id (the change id, or ``digest-<week>``), beside the deliveries
themselves, so one Query shows both (``policywatch deliveries``):

- ``#fanout``: the summary. The change event its pages deliver (``event``); ``chains``; ``pages_started`` (a page's item and this counter are
  written in one transaction) and ``pages_done``; ``chains_ended`` (a chain's last page, the one
  with nothing after it, ends it as it is done); the pages' counts added up (``sent``,
  ``duplicates``...); and ``completed_at`` once every chain has ended and every started page is
  done.
- ``#page#<platform>#<number>``: one per page: ``pending`` until done, then ``done`` with its
  counts. Its ``job`` is the message that carries it; ``next_sent`` says the next page's job is
  on the queue.

Marking a page done and adding its counts happen in one transaction, on condition that it was
pending: a page job delivered twice (SQS is at least once) is counted once. The deliveries it
makes are each claimed (``storage.deliveries``), so it sends nothing twice either.

Ledger items have no ``subscriber_id`` and no ``unsettled``: the deliveries table's indexes
never see them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from policywatch.core import clock
from policywatch.storage import clients as aws
from policywatch.storage.deliveries import LEDGER_PREFIX
from policywatch.storage.errors import adapter

SUMMARY = "#fanout"
PAGE_PREFIX = "#page#"
# What pages add up in the summary: an alert's fan-out counts (notify.fanout.FanOut), a digest's
# (notify.digest.DigestRun), and the index items read.
COUNTS: tuple[str, ...] = ("watchers", "sent", "duplicates", "retrying", "handed_over", "deferred_to_digest")
COUNTS += ("not_entitled", "failed", "other_platform", "items_read")


@dataclass(frozen=True)
class PageKey:
    fanout_id: str
    chain: str  # the platform whose index the page is read from
    number: int  # 1, 2, ... along the chain

    @property
    def recipient(self) -> str:
        return f"{PAGE_PREFIX}{self.chain}#{self.number:06d}"

    def next(self) -> PageKey:
        return PageKey(self.fanout_id, self.chain, self.number + 1)


def is_ledger(item: dict[str, Any]) -> bool:
    """True for a fan-out's summary or page item (not a delivery)."""
    return str(item.get("recipient", "")).startswith(LEDGER_PREFIX)


def complete(summary: dict[str, Any]) -> bool:
    """Every chain ended and every started page done (``completed_at`` records when it was seen)."""
    return int(summary.get("chains_ended", 0)) >= int(summary.get("chains", 1)) and int(
        summary.get("pages_done", 0)
    ) >= int(summary.get("pages_started", 0))


@adapter
class FanOuts:
    """Data access for fan-out ledgers, in the deliveries table (low-level client: thread-safe)."""

    def __init__(self, table_name: str, ttl_days: int = 400) -> None:
        self.table_name = table_name
        self.ttl_seconds = ttl_days * 86400

    @property
    def _db(self) -> Any:
        return aws.client("dynamodb")

    def _key(self, fanout_id: str, recipient: str) -> dict[str, Any]:
        return aws.to_dynamodb({"change_id": fanout_id, "recipient": recipient})

    def start(self, fanout_id: str, kind: str, chains: list[str], record_key: str, event: str = "") -> bool:
        """Write the summary of a new fan-out; False if it was started before (a redelivered event).

        ``event``: what the pages deliver (a change event as published), kept with the summary: the
        change's record may not be in the archive yet when the first page runs (decision 0007).
        """
        now = clock.iso()
        item = {
            "change_id": fanout_id,
            "recipient": SUMMARY,
            "kind": kind,
            "chains": len(chains),
            "platforms": sorted(chains),
            "record_key": record_key,
            "pages_started": 0,
            "pages_done": 0,
            "chains_ended": 0,
            "started_at": now,
            "updated_at": now,
            "expires_at": int(time.time()) + self.ttl_seconds,
        }
        if event:
            item["event"] = event
        try:
            self._db.put_item(
                TableName=self.table_name,
                Item=aws.to_dynamodb(item),
                ConditionExpression="attribute_not_exists(change_id)",
            )
            return True
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise

    def add_page(self, page: PageKey, job: str) -> dict[str, Any]:
        """Record page ``page`` as started, with the job that carries it; returns its item as stored.

        The page's item and the summary's ``pages_started`` are written together; a page that
        exists already (its previous page ran twice) is returned as it is, and counted once.
        """
        now = clock.iso()
        item = {
            "change_id": page.fanout_id,
            "recipient": page.recipient,
            "chain": page.chain,
            "page": page.number,
            "status": "pending",
            "job": job,
            "started_at": now,
            "updated_at": now,
            "expires_at": int(time.time()) + self.ttl_seconds,
        }
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": self.table_name,
                            "Item": aws.to_dynamodb(item),
                            "ConditionExpression": "attribute_not_exists(change_id)",
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": self._key(page.fanout_id, SUMMARY),
                            "UpdateExpression": "ADD pages_started :one SET updated_at = :now",
                            "ConditionExpression": "attribute_exists(change_id)",
                            "ExpressionAttributeValues": aws.to_dynamodb({":one": 1, ":now": now}),
                        }
                    },
                ]
            )
            return item
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] != ["ConditionalCheckFailed"]:
                raise
        existing = self.page(page)
        if existing is None:  # the summary is missing, or the page went meanwhile: never expected
            raise LookupError(f"fan-out {page.fanout_id} has no summary to count page {page.number} in")
        return existing

    def page(self, page: PageKey) -> dict[str, Any] | None:
        response = self._db.get_item(
            TableName=self.table_name, Key=self._key(page.fanout_id, page.recipient), ConsistentRead=True
        )
        return aws.from_dynamodb(response["Item"]) if "Item" in response else None

    def next_sent(self, page: PageKey) -> None:
        """Note that the job of the page after ``page`` is on the queue (a rerun of ``page`` does not send it again)."""
        self._db.update_item(
            TableName=self.table_name,
            Key=self._key(page.fanout_id, page.recipient),
            UpdateExpression="SET next_sent = :yes",
            ExpressionAttributeValues={":yes": {"BOOL": True}},
        )

    def page_done(self, page: PageKey, counts: dict[str, int], *, last: bool) -> bool:
        """Mark ``page`` done and add its counts to the summary, once; True if this call did it.

        ``last``: nothing comes after it on its chain, which ends with it. The fan-out is stamped
        ``completed_at`` when this was the last page outstanding.
        """
        now = clock.iso()
        counts = {name: int(value) for name, value in counts.items() if name in COUNTS and value}
        page_sets = ", ".join(f"{name} = :{name}" for name in counts)
        adds = ["pages_done :one"] + [f"{name} :{name}" for name in counts] + (["chains_ended :one"] if last else [])
        values = {f":{name}": value for name, value in counts.items()} | {":one": 1, ":now": now, ":pending": "pending"}
        try:
            self._db.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": self._key(page.fanout_id, page.recipient),
                            "UpdateExpression": "SET #s = :done, done_at = :now, updated_at = :now, last_page = :last"
                            + (", " + page_sets if page_sets else ""),
                            "ConditionExpression": "#s = :pending",
                            "ExpressionAttributeNames": {"#s": "status"},
                            "ExpressionAttributeValues": aws.to_dynamodb(
                                {k: v for k, v in values.items() if k != ":one"} | {":done": "done", ":last": last}
                            ),
                        }
                    },
                    {
                        "Update": {
                            "TableName": self.table_name,
                            "Key": self._key(page.fanout_id, SUMMARY),
                            "UpdateExpression": "ADD " + ", ".join(adds) + " SET updated_at = :now",
                            "ExpressionAttributeValues": aws.to_dynamodb(
                                {k: v for k, v in values.items() if k != ":pending"}
                            ),
                        }
                    },
                ]
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "TransactionCanceledException":
                raise
            reasons = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                return False  # done before: a duplicate job
            raise
        self._stamp_if_complete(page.fanout_id)
        return True

    def _stamp_if_complete(self, fanout_id: str) -> None:
        summary = self.summary(fanout_id)
        if summary is None or "completed_at" in summary or not complete(summary):
            return
        try:
            self._db.update_item(
                TableName=self.table_name,
                Key=self._key(fanout_id, SUMMARY),
                UpdateExpression="SET completed_at = :now",
                ConditionExpression="attribute_not_exists(completed_at) AND pages_done = :done AND chains_ended = :ended",
                ExpressionAttributeValues=aws.to_dynamodb(
                    {":now": clock.iso(), ":done": summary["pages_done"], ":ended": summary["chains_ended"]}
                ),
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
                raise

    def summary(self, fanout_id: str) -> dict[str, Any] | None:
        response = self._db.get_item(TableName=self.table_name, Key=self._key(fanout_id, SUMMARY), ConsistentRead=True)
        return aws.from_dynamodb(response["Item"]) if "Item" in response else None

    def pages(self, fanout_id: str) -> list[dict[str, Any]]:
        """Every page of a fan-out, by platform and number."""
        request = {
            "TableName": self.table_name,
            "KeyConditionExpression": "change_id = :f AND begins_with(recipient, :pages)",
            "ExpressionAttributeValues": aws.to_dynamodb({":f": fanout_id, ":pages": PAGE_PREFIX}),
            "ConsistentRead": True,
        }
        return [aws.from_dynamodb(item) for item in aws.all_items(self._db.query, **request)]
