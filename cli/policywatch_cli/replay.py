"""Replay a recorded history through the pipeline's logic, version by version.

A history is a folder with ``index.json`` (``versions``: ``seq``, ``recorded_at``, ``file``)
and the version files, as in ``../shared/corpus/histories``. Each recorded version goes
through what the archivist and the diff stage do with a fetched text:

1. the sanity checks of extraction (too short, an error page, not policy language,
   collapsed): a failure alerts the operator, never subscribers, and the last good text
   stays; a collapse seen on ``COLLAPSE_ACCEPT_AFTER`` fetches in a row is accepted as the
   document's new size, as the archivist does;
2. the fingerprint: equal to the last archived one means no new version (``identical``
   when the bytes are the same, ``cosmetic`` when only tokens, typography or whitespace differ);
3. otherwise a new version, analysed against the previous one with the memory of every
   version archived before it (fingerprints and words keys), exactly as
   ``changes.process_version`` does.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from policywatch.analysis.assess import Analysis, analyse, words_key_of
from policywatch.core.errors import InputError
from policywatch.fetch.extraction.checks import COLLAPSE_ACCEPT_AFTER, ExtractionError, check_text
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
    archived: list[tuple[str, str, str]] = []  # (fingerprint, words key, text) of archived versions
    last_raw = None
    last_chars: int | None = None  # as the state's text_chars: the last good text, normalised
    collapsed = 0  # consecutive fetches refused as collapsed, as the state's collapsed_fetches
    notice: str | None = None  # the error notice the last good text carried, as the state's
    for seq, recorded_at, text in versions:
        normalised = normalise(text)
        try:
            checked = check_text(text, min_chars=min_chars, previous_chars=last_chars, normalised=normalised,
                                 collapsed_before=collapsed, previous_notice=notice)  # fmt: skip
        except ExtractionError as exc:
            collapsed = collapsed + 1 if exc.kind == "text-collapsed" else 0
            yield Step(
                seq,
                recorded_at,
                "extraction-failure",
                False,
                f"Extraction failure for the operator: {exc}",
                failure=exc.kind,
            )
            continue
        collapsed = 0
        last_chars, notice = checked.chars, checked.notice
        current = fingerprint(text, normalised=normalised)
        if not archived:
            archived.append((current, words_key_of(text), text))
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
        earlier = archived[:-1]  # the previous version is compared in full
        result = analyse(
            archived[-1][2],
            text,
            seen_fingerprints={f for f, _, _ in earlier},
            seen_words={w for _, w, _ in earlier},
            fingerprint=current,
        )
        archived.append((current, result.words_key, text))
        last_raw = text
        summary = result.summary
        if checked.rebaselined:
            summary = f"{REBASELINED} {summary}"
        yield Step(seq, recorded_at, result.kind, True, summary, result)


REBASELINED = (
    f"A collapse seen on {COLLAPSE_ACCEPT_AFTER} fetches in a row, accepted as the document's new size "
    "(the operator is told)."
)
