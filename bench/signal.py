"""Alert signal over the whole tuning set: every history of the GenAI bundle replayed through the pipeline's logic.

    .venv/bin/python -m bench.signal                    # this tree: per document and in total
    .venv/bin/python -m bench.signal --base 1c42d1a     # and the engine of another commit, same run, with ratios
    .venv/bin/python -m bench.signal --only Claude.ai   # documents whose path starts with this

The histories come from ``../shared/corpus/genai-contrib.bundle`` (Open Terms Archive GenAI
Contrib versions, ODC-By 1.0), cloned once into ``.local/bench/signal/``: each file is a
document, each commit touching it one recorded version, oldest first. Every document is
replayed by ``policywatch_cli.replay.replay`` (the fetch stage's checks and fingerprint, the
diff stage's analysis: one implementation), documents in parallel, one process per core.

Per document and in total it prints: recorded versions, versions with new text (archived),
alerts and their severities, alerts on *noise versions* (archived versions whose words, as a
reader reads them, equal those of the previous archived version or of an earlier one),
extraction failures and the longest run of consecutive versions refused as collapsed or not
policy language (the checks that can lock a real policy out), and, when
``bench/labels/*.jsonl`` holds labels (``{"document", "seq", "label": "alert" | "no" |
"borderline", "severity"}``), precision and recall against them (borderline left out) and the
high alerts on versions labelled no. The wall time is of the whole replay.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUNDLE = ROOT.parent / "shared" / "corpus" / "genai-contrib.bundle"
WORK = ROOT / ".local" / "bench" / "signal"
LABELS = ROOT / "bench" / "labels"

History = list[tuple[int, str, str]]  # (seq, recorded_at, text), as replay takes it
# The sanity checks that refuse a text which may be the policy itself (its longest run is the
# lock-out measured): not an error page ("error-page") or a near-empty one ("text-too-short").
REFUSALS_OF_TEXT = ("text-collapsed", "not-a-policy")


@dataclass
class Document:
    """What replaying one history did."""

    name: str
    versions: int = 0
    archived: int = 0  # versions with new text (a new archived version, the first included)
    alerts: list[int] = field(default_factory=list)  # seq of each alerting version
    severities: dict[str, int] = field(default_factory=dict)
    high: list[int] = field(default_factory=list)
    noise_versions: int = 0
    noise_alerts: list[int] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    longest_refusal: int = 0  # consecutive recorded versions refused by a sanity check


# ---------------------------------------------------------------------------- the bundle


def clone() -> Path:
    """The bundle cloned once (a git checkout of every history)."""
    folder = WORK / "genai-contrib"
    if not (folder / ".git").exists():
        if not BUNDLE.exists():
            sys.exit(f"signal: {BUNDLE} is missing: the bench needs ../shared beside the project")
        WORK.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "clone", "--quiet", str(BUNDLE), str(folder)], check=True)
    return folder


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def histories(repo: Path, only: str = "") -> dict[str, History]:
    """Every document's recorded versions, oldest first: one ``git log`` per file, one ``cat-file`` for all."""
    paths = [
        p for p in _git(repo, "ls-files", "-z").split("\0") if "/" in p and p.endswith(".md") and p.startswith(only)
    ]  # "Service/Document type.md"; the bundle's own README.md is not a document
    commits = {
        path: [
            line.split(" ", 1) for line in _git(repo, "log", "--reverse", "--format=%H %aI", "--", path).splitlines()
        ]
        for path in paths
    }
    wanted = [f"{sha}:{path}" for path, found in commits.items() for sha, _ in found]
    texts = _cat_files(repo, wanted)
    return {
        path[: -len(".md")]: [(seq, at, texts[f"{sha}:{path}"]) for seq, (sha, at) in enumerate(found, 1)]
        for path, found in commits.items()
    }


def _cat_files(repo: Path, objects: list[str]) -> dict[str, str]:
    """The text of each ``commit:path``, read through one ``git cat-file --batch``."""
    done = subprocess.run(
        ["git", "-C", str(repo), "cat-file", "--batch"],
        input="".join(f"{name}\n" for name in objects).encode(),
        capture_output=True,
        check=True,
    )
    out, texts, at = done.stdout, {}, 0
    for name in objects:
        header_end = out.index(b"\n", at)
        size = int(out[at:header_end].split()[2])
        texts[name] = out[header_end + 1 : header_end + 1 + size].decode("utf-8")
        at = header_end + 1 + size + 1  # the object, then a newline
    return texts


# ---------------------------------------------------------------------------- one document


def replay_document(name: str, history: History) -> Document:
    """Replay one history and count what a subscriber and the operator would have seen."""
    try:  # the engine of the commit before the package was laid out by stage (for --base)
        from policywatch.blocks import words  # type: ignore[import-not-found]
        from policywatch.replay import replay  # type: ignore[import-not-found]
    except ImportError:
        from policywatch.text.plain import words
        from policywatch_cli.replay import replay
    has_key = False
    with contextlib.suppress(ImportError):  # a version's words as the engine keeps them (by passage)
        from policywatch.analysis.assess import words_key_of as words  # type: ignore[no-redef]

        has_key = True  # and each analysis has its new version's, computed once

    result = Document(name, versions=len(history))
    texts = {seq: text for seq, _, text in history}
    archived_words: set[object] = set()  # the words of every version archived so far
    refused = 0
    for step in replay(history):
        # A refusal of a text that may be the policy: not an error page or a near-empty text.
        refused = refused + 1 if step.failure in REFUSALS_OF_TEXT else 0
        result.longest_refusal = max(result.longest_refusal, refused)
        if step.failure:
            result.failures[step.failure] = result.failures.get(step.failure, 0) + 1
        if not step.archived:
            continue
        result.archived += 1
        current = step.analysis.words_key if has_key and step.analysis is not None else words(texts[step.seq])
        noise = current in archived_words  # the same words as the previous version, or back to earlier ones
        archived_words.add(current)
        result.noise_versions += noise
        if step.alert and step.analysis is not None:
            severity = step.analysis.severity
            result.alerts.append(step.seq)
            result.severities[severity] = result.severities.get(severity, 0) + 1
            if severity == "high":
                result.high.append(step.seq)
            if noise:
                result.noise_alerts.append(step.seq)
    return result


def replay_all(found: dict[str, History], workers: int) -> tuple[list[Document], float]:
    started = time.perf_counter()
    with ProcessPoolExecutor(max_workers=workers) as pool:
        # The longest histories first, so that no worker is left with one at the end.
        order = sorted(found, key=lambda name: -sum(len(text) for _, _, text in found[name]))
        results = list(pool.map(replay_document, order, [found[name] for name in order]))
    return sorted(results, key=lambda d: d.name), time.perf_counter() - started


# ---------------------------------------------------------------------------- labels and report


def labels(pattern: str = "*.jsonl") -> dict[tuple[str, int], dict]:
    """(document, seq) -> label, from the files under bench/labels that ``pattern`` names."""
    found: dict[tuple[str, int], dict] = {}
    for path in sorted(LABELS.glob(pattern)):
        for line in path.read_text().splitlines():
            if line.strip():
                label = json.loads(line)
                found[(label["document"], int(label["seq"]))] = label
    return found


def scores(documents: list[Document], labelled: dict[tuple[str, int], dict]) -> dict[str, float | int]:
    """Precision and recall of the alerts against the labels (borderline left out), and high alerts labelled no."""
    alerted = {(d.name, seq) for d in documents for seq in d.alerts}
    high = {(d.name, seq) for d in documents for seq in d.high}
    replayed = {d.name for d in documents}  # with --only, the labels of the documents replayed
    judged = {
        key: label["label"] for key, label in labelled.items() if label["label"] != "borderline" and key[0] in replayed
    }
    true_positive = sum(1 for key, label in judged.items() if label == "alert" and key in alerted)
    false_positive = sum(1 for key, label in judged.items() if label == "no" and key in alerted)
    false_negative = sum(1 for key, label in judged.items() if label == "alert" and key not in alerted)
    return {
        "labelled": len(judged),
        "precision": true_positive / max(true_positive + false_positive, 1),
        "recall": true_positive / max(true_positive + false_negative, 1),
        "high_on_no": sum(1 for key, label in judged.items() if label == "no" and key in high),
    }


def totals(documents: list[Document]) -> dict[str, int]:
    failures: Counter[str] = Counter()
    severities: Counter[str] = Counter()
    for document in documents:
        failures.update(document.failures)
        severities.update(document.severities)
    return {
        "documents": len(documents),
        "versions": sum(d.versions for d in documents),
        "archived": sum(d.archived for d in documents),
        "alerts": sum(len(d.alerts) for d in documents),
        "high": severities["high"],
        "medium": severities["medium"],
        "low": severities["low"],
        "noise_versions": sum(d.noise_versions for d in documents),
        "noise_alerts": sum(len(d.noise_alerts) for d in documents),
        "extraction_failures": sum(failures.values()),
        "refusals_over_3": sum(1 for d in documents if d.longest_refusal > 3),
    }


def print_documents(documents: list[Document]) -> None:
    print(
        f"{'document':<58} {'vers':>5} {'new':>4} {'alert':>5} {'high':>4} {'noise':>5} {'n-al':>4} {'fail':>4} {'run':>3}"
    )
    for d in documents:
        print(
            f"{d.name[:58]:<58} {d.versions:>5} {d.archived:>4} {len(d.alerts):>5} {len(d.high):>4} "
            f"{d.noise_versions:>5} {len(d.noise_alerts):>4} {sum(d.failures.values()):>4} {d.longest_refusal:>3}"
        )


def print_summary(label: str, run: dict) -> None:
    t = run["totals"]
    noise_share = t["noise_alerts"] / max(t["noise_versions"], 1)
    print(
        f"{label}: {t['documents']} documents, {t['versions']} recorded versions, {t['archived']} with new text; "
        f"{t['alerts']} alerts (high {t['high']}, medium {t['medium']}, low {t['low']}); "
        f"alerts on noise versions {t['noise_alerts']} of {t['noise_versions']} ({noise_share:.1%}); "
        f"extraction failures {t['extraction_failures']}, documents refused more than 3 versions in a row "
        f"{t['refusals_over_3']}; wall {run['seconds']:.1f} s"
    )
    s = run.get("scores")
    if s and s["labelled"]:
        print(
            f"  against {s['labelled']} labels: precision {s['precision']:.2f}, recall {s['recall']:.2f}, "
            f"high alerts on versions labelled no: {s['high_on_no']}"
        )
    elif s is not None:
        print(f"  no labels yet ({LABELS.relative_to(ROOT)}/*.jsonl)")


# ---------------------------------------------------------------------------- runs


def run_here(only: str, workers: int) -> dict:
    found = histories(clone(), only)
    documents, seconds = replay_all(found, workers)
    return {
        "seconds": seconds,
        "totals": totals(documents),
        "scores": scores(documents, labels()),
        "documents": [asdict(d) for d in documents],
    }


def run_base(rev: str, only: str, workers: int) -> dict:
    """The same replay with another commit's engine, in a child process that imports it from a worktree."""
    tree = WORK / f"tree-{rev}"
    if not tree.exists():
        subprocess.run(["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev], check=True)
    paths = [str(tree / "layers" / "policywatch"), str(tree / "cli"), str(ROOT)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths)}
    command = [sys.executable, "-m", "bench.signal", "--json", "--only", only, "--workers", str(workers)]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True, cwd=ROOT)
    return json.loads(done.stdout)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", help="also replay with this commit's engine, in the same run")
    parser.add_argument("--only", default="", help="documents whose path starts with this")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--documents", action="store_true", help="a line per document")
    parser.add_argument("--json", action="store_true", help="the whole result as JSON (used for --base)")
    args = parser.parse_args(argv)
    new = run_here(args.only, args.workers)
    if args.json:
        print(json.dumps(new))
        return 0
    if args.documents:
        print_documents([Document(**d) for d in new["documents"]])
    print_summary("this tree", new)
    if args.base:
        base = run_base(args.base, args.only, args.workers)
        print_summary(f"base {args.base}", base)
        print(f"wall time ratio, this tree / base: {new['seconds'] / base['seconds']:.2f}")
        differ = [d["name"] for d, b in zip(new["documents"], base["documents"], strict=False) if d != b]
        print(
            f"documents whose replay differs from the base's: {len(differ)}"
            + (f" ({', '.join(differ[:10])})" if differ else "")
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
