"""Benchmark: the diff stage's analysis against a plain difflib line diff, in one run.

Targets (issue 4):
- diff and classification of Claude.ai's privacy-policy snapshots of 2025-08-28 and
  2025-08-29, after extraction, under 50 ms median;
- a replay of all 68 recorded versions of that policy under 3 s;
- the ratio of both against ``difflib.unified_diff`` over the lines of the same texts.

The measured path is the pipeline's own: ``analysis.analyse`` (blocks, alignment, moves,
word-level changes, classes, provisions, severity, regulations, summary, effective date),
and ``replay.replay`` (sanity checks, fingerprints, the memory of earlier texts, analysis) for the history.
Policy texts: Open Terms Archive GenAI collection, ODC-By 1.0.

    .venv/bin/python -m bench.diff [--runs 30]
"""

from __future__ import annotations

import argparse
import difflib
from pathlib import Path

from bench.timing import median_seconds
from policywatch.analysis.assess import analyse
from policywatch.fetch.extraction.html import extract
from policywatch_cli.replay import load, replay

ROOT = Path(__file__).resolve().parent.parent


CORPUS = ROOT.parent / "shared/corpus"
PAIR_TARGET_MS = 50
REPLAY_TARGET_S = 3.0


def line_diff(old: str, new: str) -> list[str]:
    return list(difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm=""))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=30, help="timed runs per measurement (default 30)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    snapshots = CORPUS / "snapshots/claude-ai/privacy-policy"
    old = extract((snapshots / "2025-08-28.html").read_bytes(), ["main"])
    new = extract((snapshots / "2025-08-29.html").read_bytes(), ["main"])
    result = analyse(old, new)
    print(f"Claude.ai privacy policy 2025-08-28 -> 2025-08-29 ({len(old):,} and {len(new):,} characters of text)")
    print(f"  {result.kind}, severity {result.severity}, {len(result.comparison.substantive)} substantive passages, "
          f"categories {', '.join(result.categories)}")  # fmt: skip
    pair = median_seconds(lambda: analyse(old, new), args.runs)
    pair_lines = median_seconds(lambda: line_diff(old, new), args.runs)
    verdict = "meets" if pair * 1000 < PAIR_TARGET_MS else "MISSES"
    print(f"  analysis:        {pair * 1000:7.1f} ms median ({verdict} the {PAIR_TARGET_MS} ms target)")
    print(f"  difflib lines:   {pair_lines * 1000:7.1f} ms median")
    print(f"  ratio:           {pair / pair_lines:7.1f}x the line diff")

    _, versions = load(CORPUS / "histories/claude-ai-privacy-policy")
    steps = list(replay(versions))
    alerts = sum(step.alert for step in steps)
    texts = [text for _, _, text in versions]
    runs = max(1, args.runs // 6)
    whole = median_seconds(lambda: list(replay(versions)), runs)
    lines = median_seconds(lambda: [line_diff(a, b) for a, b in zip(texts, texts[1:], strict=False)], runs)
    verdict = "meets" if whole < REPLAY_TARGET_S else "MISSES"
    print(f"\nReplay of {len(versions)} recorded versions ({alerts} alerts)")
    print(f"  replay:          {whole:7.2f} s median of {runs} ({verdict} the {REPLAY_TARGET_S:.0f} s target)")
    print(f"  difflib lines:   {lines:7.2f} s for the {len(texts) - 1} consecutive pairs")
    print(f"  ratio:           {whole / lines:7.1f}x the line diff")


if __name__ == "__main__":
    main()
