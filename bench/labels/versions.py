"""What a labeller reads: the sample of versions to judge, and each one's word diff.

    .venv/bin/python -m bench.labels.versions sample [--per-document 5] [--seed 13]   # the sample, JSON Lines
    .venv/bin/python -m bench.labels.versions show "Claude.ai/Privacy Policy" 236     # one version's word diff
    .venv/bin/python -m bench.labels.versions agreement                                # second readings vs first

A version *with new text* is a recorded version whose text differs from the previous recorded
version's. ``show`` prints the words removed and added against that previous version, with a
few words of context either side, and nothing of what the engine thinks of them: labels come
from reading (docs/labelling.md).
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import re
import sys

from bench.signal import clone, histories, labels

CONTEXT_WORDS = 12
MAX_HUNKS = 60
_WORD = re.compile(r"\S+")


def new_text_versions() -> dict[str, list[int]]:
    """Document -> the seq of each recorded version whose text differs from the one before (the first aside)."""
    found: dict[str, list[int]] = {}
    for name, history in histories(clone()).items():
        changed = [seq for (_, _, before), (seq, _, text) in zip(history, history[1:], strict=False) if text != before]
        if changed:
            found[name] = changed
    return found


def sample(per_document: int, seed: int) -> list[dict[str, object]]:
    """Up to ``per_document`` versions with new text from every document, drawn with a fixed seed."""
    chooser = random.Random(seed)
    picked = []
    for name, seqs in sorted(new_text_versions().items()):
        for seq in sorted(chooser.sample(seqs, min(per_document, len(seqs)))):
            picked.append({"document": name, "seq": seq})
    return picked


def word_diff(before: str, after: str) -> list[str]:
    """Each changed stretch as ``… context [-removed-] {+added+} context …``."""
    old, new = _WORD.findall(before), _WORD.findall(after)
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    hunks = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        left = " ".join(old[max(0, i1 - CONTEXT_WORDS) : i1])
        right = " ".join(old[i2 : i2 + CONTEXT_WORDS])
        removed = f"[-{' '.join(old[i1:i2])}-]" if i2 > i1 else ""
        added = f"{{+{' '.join(new[j1:j2])}+}}" if j2 > j1 else ""
        hunks.append(f"… {left} {removed} {added} {right} …")
    return hunks


def _history(document: str, seq: int) -> list[tuple[int, str, str]]:
    """The document's recorded versions; exits with one line when it or ``seq`` is not in the bundle."""
    history = histories(clone(), document).get(document)
    if history is None:
        sys.exit(f"labels: no document {document!r} in the bundle (names are 'Service/Document type')")
    if not any(s == seq for s, _, _ in history):
        sys.exit(f"labels: {document} has versions 1 to {len(history)}, not {seq}")
    return history


def show(document: str, seq: int) -> str:
    history = _history(document, seq)
    by_seq = {s: (at, text) for s, at, text in history}
    previous = max((s for s in by_seq if s < seq and by_seq[s][1] != by_seq[seq][1]), default=None)
    at, text = by_seq[seq]
    if previous is None:
        return f"{document} #{seq} ({at}): the first version of this text, nothing to compare\n"
    hunks = word_diff(by_seq[previous][1], text)
    lines = [
        f"{document} #{seq} ({at}) against #{previous} ({by_seq[previous][0]}): "
        f"{len(hunks)} changed stretches, {len(_WORD.findall(by_seq[previous][1]))} → {len(_WORD.findall(text))} words"
    ]
    lines += hunks[:MAX_HUNKS]
    if len(hunks) > MAX_HUNKS:
        lines.append(f"… and {len(hunks) - MAX_HUNKS} more stretches (a rewrite: read the texts with `full`)")
    return "\n".join(lines) + "\n"


def agreement() -> str:
    """How the blind second readings agree with the first: the share of equal labels, Cohen's kappa, the disagreements."""
    first, second = labels(), labels("second-read/*.jsonl")
    # A label settled after a disagreement keeps what its first reading said (first_label, first_severity).
    pairs = [
        ({**first[key], "label": first[key].get("first_label", first[key]["label"]),
          "severity": first[key].get("first_severity", first[key]["severity"])}, again)
        for key, again in second.items()
        if key in first
    ]  # fmt: skip
    if not pairs:
        return "no second readings yet\n"
    kinds = ("alert", "no", "borderline")
    agreed = sum(a["label"] == b["label"] for a, b in pairs) / len(pairs)
    chance = sum(
        (sum(a["label"] == k for a, _ in pairs) / len(pairs)) * (sum(b["label"] == k for _, b in pairs) / len(pairs))
        for k in kinds
    )
    kappa = (agreed - chance) / (1 - chance) if chance < 1 else 1.0
    lines = [f"{len(pairs)} versions read twice: labels agree on {agreed:.0%}, Cohen's kappa {kappa:.2f}"]
    for a, b in pairs:
        if a["label"] != b["label"] or (a["label"] == "alert" and a["severity"] != b["severity"]):
            lines.append(
                f"  {a['document']} #{a['seq']}: {a['label']}/{a['severity']} ({a['labeller']}) vs "
                f"{b['label']}/{b['severity']} ({b['labeller']}): {b['reason']}"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    picking = commands.add_parser("sample")
    picking.add_argument("--per-document", type=int, default=5)
    picking.add_argument("--seed", type=int, default=13)
    one = commands.add_parser("show")
    one.add_argument("document")
    one.add_argument("seq", type=int)
    commands.add_parser("agreement", help="the second readings against the first")
    full = commands.add_parser("full", help="the whole text of one version")
    full.add_argument("document")
    full.add_argument("seq", type=int)
    args = parser.parse_args(argv)
    if args.command == "sample":
        for entry in sample(args.per_document, args.seed):
            print(json.dumps(entry, ensure_ascii=False))
    elif args.command == "show":
        sys.stdout.write(show(args.document, args.seq))
    elif args.command == "agreement":
        sys.stdout.write(agreement())
    else:
        history = _history(args.document, args.seq)
        sys.stdout.write(next(text for s, _, text in history if s == args.seq))
    return 0


if __name__ == "__main__":
    sys.exit(main())
