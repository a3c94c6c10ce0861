"""Every archived version is chained as it is written: its manifest names the previous one's hash."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from policywatch.evidence import chain
from policywatch.storage.archive import Archive, sha256
from tests.helpers.aws import BUCKET

DOC = "anthropic/privacy-policy"
T0 = datetime(2025, 8, 28, 9, 0, tzinfo=UTC)
META = {"source-url": "https://www.anthropic.com/legal/privacy", "fetched-at": "2025-08-28T09:00:00Z",
        "extractor-version": "2"}  # fmt: skip


def segment(archive: Archive) -> list[tuple[str, bytes]]:
    return [(key, archive.get(key)) for key in archive.keys(f"manifests/{DOC}/")]


def test_each_version_gets_a_manifest_after_the_previous_one(stack):
    archive = Archive(BUCKET)
    archive.put("snapshots/anthropic/privacy-policy/2025-08-28T090000.000Z.html", b"<html>v1</html>", "text/html",
                {"sha256": sha256(b"<html>v1</html>")})  # fmt: skip
    keys = [
        archive.put_version(DOC, T0 + timedelta(days=n), f"text {n}", {**META, "snapshot-key": (
            "snapshots/anthropic/privacy-policy/2025-08-28T090000.000Z.html" if n == 0 else "")})
        for n in range(3)
    ]  # fmt: skip
    entries = chain.check(segment(archive))
    assert [e["sequence"] for e in entries] == [1, 2, 3] and entries[0]["previous"] is None
    assert [e["version"] for e in entries] == keys
    assert entries[1]["text_sha256"] == sha256(b"text 1")
    assert entries[0]["snapshots"] == [
        {"key": "snapshots/anthropic/privacy-policy/2025-08-28T090000.000Z.html", "sha256": sha256(b"<html>v1</html>")}
    ]
    assert entries[0]["source_url"] == META["source-url"] and entries[0]["extractor_version"] == "2"


def test_versions_from_before_chains_and_one_a_crash_left_unchained_are_chained_in_order(stack):
    archive = Archive(BUCKET)
    for n in range(2):  # an archive from before chains existed: versions without manifests
        body = f"old {n}".encode()
        archive.put(f"versions/{DOC}/2024-0{n + 1}-01T000000.000Z.md", body, "text/markdown", {"sha256": sha256(body)})
    archive.put_version(DOC, T0, "new", META)
    entries = chain.check(segment(archive))
    assert [e["version"].rsplit("/", 1)[1] for e in entries] == [
        "2024-01-01T000000.000Z.md", "2024-02-01T000000.000Z.md", "2025-08-28T090000.000Z.md"]  # fmt: skip


@pytest.mark.parametrize("tamper", ["edit", "remove", "insert", "swap"])
def test_a_tampered_chain_is_named_at_its_first_break(stack, tamper):
    archive = Archive(BUCKET)
    for n in range(4):
        archive.put_version(DOC, T0 + timedelta(days=n), f"text {n}", META)
    links = segment(archive)
    if tamper == "edit":
        key, data = links[1]
        links[1] = (key, data.replace(b'"origin":"fetch"', b'"origin":"other"'))
        broken_at = links[2][0]
    elif tamper == "remove":
        del links[1]
        broken_at = links[1][0]
    elif tamper == "insert":
        extra = chain.canonical({**chain.read(links[1][1], "x"), "text_sha256": "0" * 64})
        links.insert(2, (links[1][0], extra))
        broken_at = links[2][0]
    else:
        links[1], links[2] = links[2], links[1]
        broken_at = links[1][0]
    with pytest.raises(chain.ChainError, match=broken_at.replace(".", r"\.")):
        chain.check(links)
