"""The site's read model in DynamoDB: what the pages, feeds and API read, written by the diff stage.

The archive holds the evidence (versions, change records); listing and opening hundreds of its
objects per page would take seconds. So the diff stage also writes, for every version it sees,
small items shaped for the reads the site makes, each answered by one Query:

    pk                           sk                        item
    doc#{platform}/{document}    v#{stamp}                 a version (hashes, fetch time, size)
    doc#{platform}/{document}    c#{stamp}                 a change of any kind (its summary; the feeds' copies add passages)
    doc#{platform}/{document}    profile                   the current version's provisions: passages per category
    feed#all                     {stamp}#{platform}/{document}    every alerting change (newest first)
    feed#platform#{platform}     ...                       the same, per platform
    feed#document#{p}/{d}        ...                       per document
    feed#category#{category}     ...                       per provision category
    feed#min#{severity}          ...                       at least this severity (low, medium, high)
    provision#{category}         {platform}/{document}     what each document's current version says of it
    marks#{platform}/{document}  {stamp}                   which passages of that version carry which categories

Items are written whole and never updated in place (a version's items are the same however
often it is processed), so two diffs at once cannot interleave into a wrong item; the profile
and provision rows are the latest version's, and a late older version never overwrites them.
Each item's payload is one JSON string (``data``): no Decimal round trips, one shape for the
page, the feed and the API. ``policywatch site rebuild`` writes them all again from the archive.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from typing import Any

from policywatch.core.errors import InputError
from policywatch.storage import clients as aws
from policywatch.storage.errors import StorageError, adapter

SEVERITIES = ("low", "medium", "high")
BATCH = 25  # BatchWriteItem's limit


def doc_pk(platform: str, document: str) -> str:
    return f"doc#{platform}/{document}"


def marks_pk(platform: str, document: str) -> str:
    """A document's provision marks, one item per version (apart: a document page never reads them)."""
    return f"marks#{platform}/{document}"


def feed_keys(change: dict[str, Any]) -> list[str]:
    """The feed partitions an alerting change is listed in."""
    keys = [
        "feed#all",
        f"feed#platform#{change['platform']}",
        f"feed#document#{change['platform']}/{change['document']}",
    ]
    keys += [f"feed#category#{category}" for category in change.get("categories", [])]
    rank = SEVERITIES.index(change["severity"]) if change.get("severity") in SEVERITIES else -1
    keys += [f"feed#min#{severity}" for severity in SEVERITIES[: rank + 1]]
    return keys


class Cursor:
    """An opaque pagination cursor: DynamoDB's LastEvaluatedKey, URL-safe base64 of its JSON."""

    @staticmethod
    def encode(key: dict[str, Any] | None) -> str | None:
        if not key:
            return None
        plain = {name: value["S"] for name, value in key.items()}
        return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")

    @staticmethod
    def decode(cursor: str | None, pk: str) -> dict[str, Any] | None:
        """The key a cursor stands for, or None; a cursor for another partition or not ours is refused."""
        if not cursor:
            return None
        try:
            plain = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        except (ValueError, UnicodeDecodeError):
            raise CursorError("the cursor is not one this site gave") from None
        if not isinstance(plain, dict) or plain.get("pk") != pk or not isinstance(plain.get("sk"), str):
            raise CursorError("the cursor belongs to another list")
        return {"pk": {"S": pk}, "sk": {"S": plain["sk"]}}


class CursorError(InputError):
    """A cursor we did not give for this list; the web stage answers it with a 400."""


@adapter
class SiteIndex:
    """The read model table (partition key ``pk``, sort key ``sk``; payload ``data``)."""

    def __init__(self, table_name: str) -> None:
        self.table_name = table_name

    # -- writes (the diff stage) --

    def put_items(self, items: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Write ``(pk, sk, data)`` items, 25 to a batch, retrying what DynamoDB left unprocessed."""
        requests = [
            {
                "PutRequest": {
                    "Item": {
                        "pk": {"S": pk},
                        "sk": {"S": sk},
                        "data": {"S": json.dumps(data, separators=(",", ":"), ensure_ascii=False, sort_keys=True)},
                    }
                }
            }
            for pk, sk, data in items
        ]
        client = aws.client("dynamodb")
        for start in range(0, len(requests), BATCH):
            pending = {self.table_name: requests[start : start + BATCH]}
            for _ in range(8):
                unprocessed = client.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
                if not unprocessed:
                    break
                pending = unprocessed
            else:
                raise StorageError("BatchWriteItem", "Unprocessed", "items were left unwritten after 8 tries")

    # -- reads (the web stage) --

    def get(self, pk: str, sk: str) -> dict[str, Any] | None:
        item = (
            aws.client("dynamodb")
            .get_item(TableName=self.table_name, Key={"pk": {"S": pk}, "sk": {"S": sk}})
            .get("Item")
        )
        return json.loads(item["data"]["S"]) if item else None

    def query(
        self,
        pk: str,
        *,
        prefix: str = "",
        newest_first: bool = False,
        limit: int | None = None,
        cursor: str | None = None,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Items of ``pk`` whose sort key starts with ``prefix``: at most ``limit`` of them, from
        ``cursor``, and the cursor of the next page (None at the end)."""
        found: list[dict[str, Any]] = []
        start = Cursor.decode(cursor, pk)
        for item, last in self._pages(pk, prefix, newest_first, limit, start):
            found.append(json.loads(item["data"]["S"]))
            if limit is not None and len(found) >= limit:
                return found, Cursor.encode(last) if last is not None else None
        return found, None

    def around(self, pk: str, sk: str, prefix: str) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
        """The items just before and just after ``sk`` among those of ``pk`` starting with ``prefix``
        (a version's neighbours): two Queries of at most two items each."""
        client = aws.client("dynamodb")

        def beside(low: str, high: str, forward: bool) -> dict[str, Any] | None:
            answer = client.query(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND sk BETWEEN :low AND :high",
                ExpressionAttributeValues={":pk": {"S": pk}, ":low": {"S": low}, ":high": {"S": high}},
                ScanIndexForward=forward,
                Limit=2,
            )
            found = [item for item in answer.get("Items", []) if item["sk"]["S"] != sk]
            return json.loads(found[0]["data"]["S"]) if found else None

        return beside(prefix, sk, False), beside(sk, prefix + "\uffff", True)

    def _pages(
        self, pk: str, prefix: str, newest_first: bool, limit: int | None, start: dict[str, Any] | None
    ) -> Iterator[tuple[dict[str, Any], dict[str, Any] | None]]:
        """Each item, with the key to resume after it when it ends a page (None past the last)."""
        client = aws.client("dynamodb")
        request: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk" + (" AND begins_with(sk, :prefix)" if prefix else ""),
            "ExpressionAttributeValues": {":pk": {"S": pk}, **({":prefix": {"S": prefix}} if prefix else {})},
            "ScanIndexForward": not newest_first,
        }
        if limit is not None:
            request["Limit"] = limit + 1  # one more: whether a next page exists
        while True:
            if start:
                request["ExclusiveStartKey"] = start
            answer = client.query(**request)
            items = answer.get("Items", [])
            for index, item in enumerate(items):
                more = index + 1 < len(items) or "LastEvaluatedKey" in answer
                yield item, ({"pk": item["pk"], "sk": item["sk"]} if more else None)
            start = answer.get("LastEvaluatedKey")
            if not start:
                return
