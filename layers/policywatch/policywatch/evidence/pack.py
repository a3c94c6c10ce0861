"""An audit pack: a zip of evidence files and ``pack.json``, the list of them with their SHA-256.

``pack.json`` names the pack's subject (a change, or a document over a period), when and by what
it was made, and every other file with its size, SHA-256 and role:

- ``version``: archived text, ``versions/...md``, byte for byte as archived;
- ``snapshot``: the raw page it was extracted from, ``snapshots/...``;
- ``change``: a change record, ``changes/...json``;
- ``manifest``: the document's hash chain from the first version in the pack to the newest,
  ``manifests/...json``;
- ``checkpoint``, ``signature``, ``public-key``: the signed checkpoint of the chains' heads, its
  DER signature and the key it verifies with (``checkpoints/...``);
- ``report``: what we made of it, for people (``report/diff.md``, ``report/provisions.json``).

Files keep their archive keys as paths, so each one can be compared with the archive or the
site (``/versions/...md``) directly. Nothing in a pack is compressed in a way a standard ``unzip``
cannot read.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass, field
from typing import Any

from policywatch.evidence.chain import sha256

PACK_SCHEMA = "policywatch.pack/1"
INDEX = "pack.json"
ROLES = ("version", "snapshot", "change", "manifest", "checkpoint", "signature", "public-key", "report")


@dataclass
class Pack:
    """Files gathered for a pack, by path, each with its role."""

    subject: dict[str, Any]
    files: dict[str, tuple[str, bytes]] = field(default_factory=dict)  # path -> (role, bytes)

    def add(self, path: str, role: str, data: bytes) -> None:
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}")
        self.files[path] = (role, data)

    def index(self, made_at: str, made_by: str) -> dict[str, Any]:
        return {
            "schema": PACK_SCHEMA,
            "subject": self.subject,
            "made_at": made_at,
            "made_by": made_by,
            "files": [
                {"path": path, "role": role, "bytes": len(data), "sha256": sha256(data)}
                for path, (role, data) in sorted(self.files.items())
            ],
        }

    def zip(self, made_at: str, made_by: str) -> bytes:
        """The pack as zip bytes: ``pack.json`` first, then every file, stored with deflate."""
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            index = json.dumps(self.index(made_at, made_by), indent=2, sort_keys=True, ensure_ascii=False)
            archive.writestr(INDEX, index.encode("utf-8"))
            for path, (_, data) in sorted(self.files.items()):
                archive.writestr(path, data)
        return out.getvalue()
