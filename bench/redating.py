"""Re-dating flags over the whole tuning set: how many changes get each flag, and what the rest are.

    .venv/bin/python -m bench.redating                  # counts per class, in total
    .venv/bin/python -m bench.redating --list           # and every flagged change (document, seq, dates)
    .venv/bin/python -m bench.redating --only Claude.ai # documents whose path starts with this

Every history of ``../shared/corpus/genai-contrib.bundle`` (Open Terms Archive GenAI Contrib
versions, ODC-By 1.0; cloned once by ``bench.signal``) is replayed by
``policywatch_cli.replay.replay``, the diff stage's own analysis, and each archived change is
put in one class by its kind and its ``dating`` (``analysis.dates.dating``):

- ``unchanged-date`` (flag): substantive, the stated date the same in both versions;
- ``date-only`` (flag): date-only, the stated date moved;
- ``re-dated``: substantive, the stated date moved (as it should);
- ``date-only, other date``: date-only, the stated date did not move (another date did);
- ``cosmetic, date kept`` / ``cosmetic, date moved``: not flagged (only words a reader reads count);
- ``no stated date``: neither version states one, or only one of them does;
- ``flap`` and ``technical``: never flagged.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor

from bench.signal import History, clone, histories

CLASSES = (
    "unchanged-date",
    "date-only",
    "re-dated",
    "date-only, other date",
    "cosmetic, date kept",
    "cosmetic, date moved",
    "no stated date",
    "flap",
    "technical",
)
Flagged = tuple[str, int, str, str, str, str]  # document, seq, flag, label, before, after


def classify(kind: str, dating: dict | None) -> str:
    if kind in ("flap", "technical"):
        return kind
    if dating and dating["flag"]:
        return str(dating["flag"])
    if not dating or dating["before"] is None or dating["after"] is None:
        return "no stated date"
    moved = dating["before"] != dating["after"]
    if kind == "substantive":
        return "re-dated" if moved else "unchanged-date"  # the flag says so: never reached
    if kind == "date-only":
        return "date-only, other date"
    return "cosmetic, date moved" if moved else "cosmetic, date kept"


def replay_document(name: str, history: History) -> tuple[Counter[str], list[Flagged]]:
    from policywatch_cli.replay import replay

    counts: Counter[str] = Counter()
    flagged: list[Flagged] = []
    for step in replay(history):
        if step.analysis is None:
            continue
        dating = step.analysis.dating
        counts[classify(step.analysis.kind, dating)] += 1
        if dating and dating["flag"]:
            flagged.append((name, step.seq, dating["flag"], dating["label"], dating["before"], dating["after"]))
    return counts, flagged


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="documents whose path starts with this")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--list", action="store_true", help="every flagged change")
    args = parser.parse_args(argv)
    found = histories(clone(), args.only)
    started = time.perf_counter()
    order = sorted(found, key=lambda name: -sum(len(text) for _, _, text in found[name]))
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        results = list(pool.map(replay_document, order, [found[name] for name in order]))
    seconds = time.perf_counter() - started
    total: Counter[str] = Counter()
    flagged: list[Flagged] = []
    documents: dict[str, set[str]] = {}
    for counts, flags in results:
        total.update(counts)
        flagged += flags
        for name, _, flag, *_ in flags:
            documents.setdefault(flag, set()).add(name)
    changes = sum(total.values())
    versions = sum(len(history) for history in found.values())
    print(f"{len(found)} documents, {versions} recorded versions, {changes} changes archived; wall {seconds:.1f} s")
    for name in CLASSES:
        where = f" in {len(documents[name])} documents" if name in documents else ""
        print(f"  {name:<24} {total[name]:>5}{where}")
    if args.list:
        for name, seq, flag, label, before, after in sorted(flagged):
            print(f"{flag:<15} {name} #{seq}: {label} {before} -> {after}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
