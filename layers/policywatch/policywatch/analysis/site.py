"""What the diff stage writes to the site's read model for each version (``storage.site``).

For every version it processes, the diff stage writes the version's item, its change's summary
(any kind: the timeline shows cosmetic changes too), the change with its ``FEED_PASSAGES`` most
severe passages in the feeds when it alerts, which passages of the version carry which
provision categories (its marks: the version and document pages show them), and the
document's **provision profile**: what the version says of each category, as up to
``QUOTES_PER_CATEGORY`` passages with their headings. The profile is what the provision
comparison shows side by side across platforms, kept current by the pipeline.
"""

from __future__ import annotations

import json
from typing import Any

from policywatch.analysis.blocks import parse
from policywatch.analysis.provisions import taxonomy
from policywatch.storage.archive import Archive, VersionRef, parse_key
from policywatch.storage.site import SiteIndex, doc_pk, feed_keys, marks_pk

FEED_PASSAGES = 8  # changed passages a feed entry carries (the change page has all of them)
QUOTES_PER_CATEGORY = 3
QUOTE_MAX_CHARS = 600
PROFILE_MAX_BLOCKS = 4000  # a version far past any policy is profiled on its first passages only

Item = tuple[str, str, dict[str, Any]]
_RANK = {"none": 0, "low": 1, "medium": 2, "high": 3}


def stamp_of(key: str) -> str:
    return parse_key(key)[3]


def document_type_of(version: VersionRef) -> str:
    """The document's type as the fetch stage recorded it on the version ("Privacy Policy")."""
    return version.metadata.get("document-type", version.document.replace("-", " ").title())


def version_data(version: VersionRef, chars: int, change: dict[str, Any] | None) -> dict[str, Any]:
    """A version as the site lists it (and the change that produced it, if any)."""
    meta = version.metadata
    return {
        "platform": version.platform,
        "document": version.document,
        "stamp": stamp_of(version.key),
        "key": version.key,
        "fetched_at": version.fetched_at,
        "sha256": version.sha256,
        "source_url": version.source_url,
        "snapshot_key": meta.get("snapshot-key", ""),
        "extractor_version": meta.get("extractor-version", ""),
        "chars": chars,
        "change": {k: change[k] for k in ("change_id", "kind", "severity")} if change else None,
    }


def change_data(record: dict[str, Any], record_key: str) -> dict[str, Any]:
    """A change record's summary: everything the lists, timelines and feeds show, without its passages."""
    previous, current = record["evidence"]["previous"], record["evidence"]["current"]
    return {
        "change_id": record["change_id"],
        "record_key": record_key,
        "platform": record["platform"],
        "platform_name": record["platform_name"],
        "document": record["document"],
        "document_type": record["document_type"],
        "stamp": stamp_of(current["key"]),
        "previous_stamp": stamp_of(previous["key"]),
        "detected_at": record["detected_at"],
        "fetched_at": current["fetched_at"],
        "previous_fetched_at": previous["fetched_at"],
        "kind": record["kind"],
        "alert": record["alert"],
        "severity": record["severity"],
        "direction": record["direction"],
        "summary": record["summary"],
        "categories": list(record["categories"]),
        "provisions": [
            {key: provision[key] for key in ("id", "label", "severity", "direction")}
            for provision in record.get("provisions", [])
        ],
        "effective_date": record.get("effective_date"),
        **({"dating": record["dating"]} if "dating" in record else {}),  # absent from records made before it
        "counts": record.get("counts", {}),
        "noise": record.get("noise", {}),
        "passages": _passages(record),
    }


def _passages(record: dict[str, Any]) -> list[dict[str, str]]:
    """The ``FEED_PASSAGES`` most severe substantive passages, in the document's order (a
    change of twenty passages is read by its worst ones, wherever they sit)."""
    text = [(index, block) for index, block in enumerate(record.get("blocks", [])) if block.get("class") == "text"]
    worst = sorted(text, key=lambda pair: (-_RANK.get(pair[1].get("severity", "none"), 0), pair[0]))
    kept = sorted(worst[:FEED_PASSAGES], key=lambda pair: pair[0])
    return [{key: block.get(key, "") for key in ("op", "heading", "before", "after")} for _, block in kept]


def profile(text: str) -> dict[str, Any]:
    """Which passages of ``text`` carry which provision categories, and quotes per category."""
    found = taxonomy()
    marks: list[list[Any]] = []
    quotes: dict[str, list[dict[str, str]]] = {}
    for index, block in enumerate(parse(text)[:PROFILE_MAX_BLOCKS]):
        if block.kind == "heading" or not block.plain.strip():
            continue
        categories = found.recognise(block.plain)  # its own words: a heading alone quotes nothing
        if not categories:
            continue
        marks.append([index, categories])
        for category in categories:
            if len(quotes.setdefault(category, [])) < QUOTES_PER_CATEGORY:
                quotes[category].append({"heading": block.path, "text": _shorten(block.plain)})
    return {"marks": marks, "quotes": quotes}


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= QUOTE_MAX_CHARS else text[: QUOTE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def items(
    version: VersionRef,
    text: str,
    *,
    platform_name: str,
    document_type: str,
    record: dict[str, Any] | None = None,
    record_key: str | None = None,
    current: bool = True,
) -> list[Item]:
    """The read model's items for ``version`` (and its change record, when there is one), its
    provision marks; with ``current``, also the document's profile and provision rows (the
    version is its latest)."""
    pk = doc_pk(version.platform, version.document)
    stamp = stamp_of(version.key)
    out: list[Item] = [(pk, f"v#{stamp}", version_data(version, len(text), record))]
    if record is not None and record_key is not None:
        change = change_data(record, record_key)
        # The document's list of changes reads every one of them: its items leave the passages
        # to the feeds (a document with 200 changes is 200 small items, not 2 MB).
        out.append((pk, f"c#{stamp}", {k: v for k, v in change.items() if k != "passages"}))
        if record["alert"]:
            sk = f"{stamp}#{version.platform}/{version.document}"
            out += [(feed, sk, change) for feed in feed_keys(change)]
    marked = profile(text)
    out.append((marks_pk(version.platform, version.document), stamp, {"stamp": stamp, "marks": marked["marks"]}))
    if not current:
        return out
    head = {
        "platform": version.platform,
        "platform_name": platform_name,
        "document": version.document,
        "document_type": document_type,
        "stamp": stamp,
        "key": version.key,
        "fetched_at": version.fetched_at,
        "sha256": version.sha256,
    }
    out.append((pk, "profile", {**head, **marked}))
    for category in taxonomy().categories:
        rows = marked["quotes"].get(category, [])
        out.append((f"provision#{category}", f"{version.platform}/{version.document}", {**head, "quotes": rows}))
    return out


def record_version(
    site: SiteIndex,
    version: VersionRef,
    text: str,
    *,
    platform_name: str,
    document_type: str,
    record: dict[str, Any] | None = None,
    record_key: str | None = None,
) -> None:
    """Write the version's items, unless a later version of the document is already there.

    The profile and provision rows say what the *current* version says; a version processed
    late (a retry, a rebuild out of order) writes its own items but leaves those alone.
    """
    shown = site.get(doc_pk(version.platform, version.document), "profile")
    latest = shown is None or shown["stamp"] <= stamp_of(version.key)
    site.put_items(
        items(
            version,
            text,
            platform_name=platform_name,
            document_type=document_type,
            record=record,
            record_key=record_key,
            current=latest,
        )
    )


def rebuild(archive: Archive, site: SiteIndex, document_key: str, *, platform_name: str) -> int:
    """Write the read model of one document (``{platform}/{document}``) again from the archive:
    every version, the change records the diff stage wrote, and the latest version's profile.

    For a stack upgraded to the site, or a read model lost or suspect; the items are the ones
    the diff stage writes, so running it twice, or beside the diff stage, changes nothing.
    Returns the number of versions read.
    """
    keys = archive.keys(f"versions/{document_key}/")
    written: list[Item] = []
    for index, key in enumerate(keys):
        version = archive.version_ref(key)
        record_key = key.replace("versions/", "changes/", 1).removesuffix(".md") + ".json"
        raw = archive.get_optional(record_key)
        record = json.loads(raw) if raw is not None else None
        latest = index == len(keys) - 1
        text = archive.get(key).decode()
        found = items(
            version,
            text,
            platform_name=platform_name,
            document_type=document_type_of(version),
            record=record,
            record_key=record_key if record is not None else None,
            current=latest,
        )
        written += found
    site.put_items(written)
    return len(keys)
