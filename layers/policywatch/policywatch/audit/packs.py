"""Gather an audit pack from the archive: a change, or a document over a period (docs/evidence.md).

A pack holds the versions and the raw pages they came from, the change records, the document's
chain from the first version in the pack (or from the checkpoint's head, if that is older) to
its newest manifest, and the newest signed checkpoint. ``PackError`` names what is missing.
"""

from __future__ import annotations

import json
import re
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from policywatch.analysis.provisions import regulatory_mapping
from policywatch.core.errors import InputError
from policywatch.evidence import chain
from policywatch.evidence.pack import Pack
from policywatch.storage.archive import Archive

DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
CHECKPOINT_FILES = {"latest.json": "checkpoint", "latest.sig": "signature", "public-key.pem": "public-key"}
READERS = 16


class PackError(InputError):
    """A pack that cannot be made as asked (no such change, a version not chained yet, no checkpoint)."""


def change_pack(archive: Archive, record_key: str) -> Pack:
    """A change's pack: its two versions, their raw pages, the record, the diff and provisions."""
    raw = archive.get_optional(record_key)
    if raw is None:
        raise PackError(f"no change recorded at {record_key}")
    record = json.loads(raw)
    document = f"{record['platform']}/{record['document']}"
    versions = [record["evidence"][side]["key"] for side in ("previous", "current") if record["evidence"][side]["key"]]
    pack = Pack({"change_id": record["change_id"], "record": record_key, "document": document})
    _gather(archive, pack, document, versions, [record_key])
    _report(pack, record)
    return pack


def document_pack(archive: Archive, document: str, start: str | None = None, end: str | None = None) -> Pack:
    """A document's pack: its versions archived from ``start`` to ``end`` (days, included) and their changes."""
    for value, name in ((start, "--from"), (end, "--to")):
        if value and not DATE.match(value):
            raise PackError(f"{name} {value!r} is not a date (YYYY-MM-DD)")
    versions = [
        key
        for key in archive.keys(f"versions/{document}/")
        if (not start or key.rsplit("/", 1)[1][:10] >= start) and (not end or key.rsplit("/", 1)[1][:10] <= end)
    ]
    wanted = {key.replace("versions/", "changes/", 1).removesuffix(".md") + ".json" for key in versions}
    records = [key for key in archive.keys(f"changes/{document}/") if key in wanted]
    pack = Pack({"document": document, "from": start, "to": end})
    _gather(archive, pack, document, versions, records)
    return pack


def covered(archive: Archive, document: str) -> bool:
    """True when the newest checkpoint signed the document's newest manifest (or a later one)."""
    latest = archive.get_optional("checkpoints/latest.json")
    manifests = archive.keys(f"manifests/{document}/")
    if latest is None or not manifests:
        return False
    return bool(json.loads(latest).get("heads", {}).get(document, {}).get("manifest", "") >= manifests[-1])


def _gather(archive: Archive, pack: Pack, document: str, versions: list[str], records: list[str]) -> None:
    if not versions:
        raise PackError(f"no archived version of {document} in that period")
    latest = archive.get_optional("checkpoints/latest.json")
    signed_head = json.loads(latest).get("heads", {}).get(document, {}).get("manifest", "") if latest else ""
    first = min(chain.manifest_key(versions[0]), signed_head or chain.manifest_key(versions[0]))
    manifests = [key for key in archive.keys(f"manifests/{document}/") if key >= first]
    missing = [v for v in versions if chain.manifest_key(v) not in manifests]
    if missing:
        raise PackError(
            f"{missing[0]} is not chained (no manifest): run `policywatch chain {document}` "
            "(or wait for the next version archived, which chains it)"
        )
    for path, data in _read(archive, manifests):
        pack.add(path, "manifest", data)
    for path, data in _read(archive, versions):
        pack.add(path, "version", data)
    in_pack = set(versions)
    snapshots = sorted(
        {snapshot["key"] for path, (_, data) in list(pack.files.items()) if path.startswith("manifests/")
         and chain.version_key(path) in in_pack for snapshot in chain.read(data, path)["snapshots"]}
    )  # fmt: skip
    for path, data in _read(archive, snapshots):
        pack.add(path, "snapshot", data)
    for path, data in _read(archive, records):
        pack.add(path, "change", data)
    for name, role in CHECKPOINT_FILES.items():
        published = archive.get_optional(f"checkpoints/{name}")
        if published is None:
            raise PackError(f"the archive has no checkpoints/{name} yet: no checkpoint was signed")
        pack.add(f"checkpoints/{name}", role, published)


def _read(archive: Archive, keys: list[str]) -> list[tuple[str, bytes]]:
    with ThreadPoolExecutor(max_workers=READERS) as pool:
        return list(zip(keys, pool.map(archive.get, keys), strict=True))


def _report(pack: Pack, record: dict[str, Any]) -> None:
    """What a person reads first: the changed passages, and the provisions with their regulatory mapping."""
    lines = [f"# {record['platform_name']} {record['document_type']}: {record['summary']}", ""]
    lines += [
        f"Change {record['change_id']}, detected {record['detected_at']}, {record['kind']}, "
        f"severity {record['severity']}.",
        "",
    ]
    for block in record.get("blocks", []):
        lines += [f"## {block['op']} ({block['class']}): {block.get('heading') or '(no heading)'}", ""]
        for side in ("before", "after"):
            text = block.get(side)
            if text:
                lines += [f"{side.capitalize()}:", "", *(f"> {line}" for line in str(text).splitlines()), ""]
    pack.add("report/diff.md", "report", "\n".join(lines).encode())
    provisions = [
        {**provision, "regulatory_mapping": regulatory_mapping(provision["id"], checks=True)}
        for provision in record.get("provisions", [])
    ]
    pack.add("report/provisions.json", "report", json.dumps(provisions, indent=2, ensure_ascii=False).encode())
