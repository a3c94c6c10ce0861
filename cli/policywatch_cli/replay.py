"""Replay a recorded history through the pipeline's logic, version by version.

A history is a folder with ``index.json`` (``versions``: ``seq``, ``recorded_at``, ``file``)
and the version files, as in ``../shared/corpus/histories``. Each recorded version goes
through what the archivist and the diff stage do with a fetched text:

1. the sanity checks of extraction (too short, collapsed, not policy language, an error
   page): a failure alerts the operator, never subscribers, and the last good text stays;
2. the fingerprint: equal to the last archived one means no new version (``identical``
   when the bytes are the same, ``cosmetic`` when only tokens, typography or whitespace differ);
3. otherwise a new version, analysed against the previous one with the flap window of the
   versions archived before it, exactly as ``changes.process_version`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policywatch.analysis.assess import FLAP_WINDOW, Analysis, analyse
from policywatch.core.errors import InputError
from policywatch.fetch.extraction.checks import ExtractionError, check_text
from policywatch.fetch.settings import ArchivistSettings
from policywatch.text.noise import fingerprint, normalise


class HistoryError(InputError):
    """The folder is not a readable history."""


@dataclass
class Step:
    seq: int
    recorded_at: str
    kind: str  # first | identical | cosmetic | extraction-failure | or an analysis kind
    archived: bool
    summary: str
    analysis: Analysis | None = None
    failure: str = ""

    @property
    def alert(self) -> bool:
        return self.analysis is not None and self.analysis.alert

    def to_dict(self, *, full: bool = False) -> dict[str, Any]:
        line: dict[str, Any] = {"seq": self.seq, "recorded_at": self.recorded_at, "archived": self.archived}
        if self.analysis is None:
            line.update(alert=False, kind=self.kind, severity="none", direction="neutral", categories=[],
                        summary=self.summary)  # fmt: skip
            if self.failure:
                line["failure"] = self.failure
            return line
        analysis = self.analysis.to_dict()
        if not full:
            del analysis["blocks"]
            analysis["provisions"] = [
                {k: p[k] for k in ("id", "severity", "direction", "says", "quotes")} for p in analysis["provisions"]
            ]
        return {**line, **analysis}


def load(folder: Path) -> tuple[str, list[tuple[int, str, str]]]:
    """The document's name and its versions (seq, recorded_at, text), in recorded order."""
    index_path = folder / "index.json"
    try:
        index = json.loads(index_path.read_text())
        entries = sorted(index["versions"], key=lambda v: v["seq"])
        versions = [(int(v["seq"]), str(v["recorded_at"]), (folder / v["file"]).read_text()) for v in entries]
    except FileNotFoundError as exc:
        raise HistoryError(
            f"{folder}: {Path(exc.filename).name} not found (a history has index.json and its version files)"
        ) from None
    except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
        raise HistoryError(f"{index_path}: not a history index ({exc})") from None
    return str(index.get("document", folder.name)), versions


def replay(versions: list[tuple[int, str, str]]) -> Iterator[Step]:
    min_chars = ArchivistSettings.from_env().min_text_chars
    archived: list[tuple[str, str]] = []  # (fingerprint, text) of archived versions
    last_raw = None
    last_chars: int | None = None  # as the state's text_chars: the last good text, normalised
    for seq, recorded_at, text in versions:
        normalised = normalise(text)
        try:
            check_text(text, min_chars=min_chars, previous_chars=last_chars,
                       normalised=normalised)  # fmt: skip
        except ExtractionError as exc:
            yield Step(
                seq,
                recorded_at,
                "extraction-failure",
                False,
                f"Extraction failure for the operator: {exc}",
                failure=exc.kind,
            )
            continue
        last_chars = len(normalised)
        current = fingerprint(text, normalised=normalised)
        if not archived:
            archived.append((current, text))
            last_raw = text
            yield Step(seq, recorded_at, "first", True, "First version: nothing to compare.")
            continue
        if current == archived[-1][0]:
            kind = "identical" if text == last_raw else "cosmetic"
            summary = ("The same bytes as before." if kind == "identical" else
                       "Only link tokens, typography or whitespace differ: no new version.")  # fmt: skip
            last_raw = text
            yield Step(seq, recorded_at, kind, False, summary)
            continue
        recent = {f for f, _ in archived[-1 - FLAP_WINDOW : -1]}
        result = analyse(archived[-1][1], text, recent_fingerprints=recent, fingerprint=current)
        archived.append((current, text))
        last_raw = text
        yield Step(seq, recorded_at, result.kind, True, result.summary, result)
