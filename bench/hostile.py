"""Hostile inputs, each run in a fresh process: wall time, peak memory and what became of it.

    .venv/bin/python -m bench.hostile                       # every case against this tree
    .venv/bin/python -m bench.hostile --src /tmp/before     # the same cases against another checkout
    .venv/bin/python -m bench.hostile --compare /tmp/before # both, side by side, with ratios
    .venv/bin/python -m bench.hostile --only diff           # cases whose name starts with "diff"

The cases are the reproductions of the reliability review (issue 11) and live beside this file
in ``bench/hostile_*.py``, each module a ``CASES`` list of ``(name, function)``. A case builds
its input, calls policywatch once and returns a one-line outcome ("extraction failure: ...",
"3 changes"). A case still running after ``--cap`` seconds is stopped and reported as such,
so the figures for the code before the fixes are lower bounds.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _case_modules() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(ROOT / "bench")]) if m.name.startswith("hostile_"))


def all_cases() -> list[tuple[str, str]]:
    """(module, case name) for every case, in a stable order."""
    found = []
    for module in _case_modules():
        cases = importlib.import_module(f"bench.{module}").CASES
        found.extend((module, name) for name, _ in cases)
    return found


def run_one(module: str, name: str) -> None:
    """Child process: run one case, print its outcome and peak memory as JSON."""
    import resource

    cases = dict(importlib.import_module(f"bench.{module}").CASES)
    started = time.perf_counter()
    try:
        outcome = cases[name]()
    except Exception as exc:  # an unexpected crash is an outcome too: the review found several
        outcome = f"crashed: {type(exc).__name__}: {str(exc)[:120]}"
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"outcome": str(outcome), "seconds": seconds, "peak_mb": peak_mb}))


def measure(src: Path, module: str, name: str, cap: float) -> dict:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src / "layers" / "policywatch"), str(ROOT)])}
    command = [sys.executable, "-m", "bench.hostile", "--child", module, name]
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=cap, cwd=ROOT)
    except subprocess.TimeoutExpired:
        return {"outcome": f"still running after {cap:g} s (stopped)", "seconds": cap, "peak_mb": None}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"outcome": f"process died: {tail[:120]}", "seconds": None, "peak_mb": None}
    return json.loads(lines[-1])


def _fmt(result: dict) -> str:
    seconds = "-" if result["seconds"] is None else f"{result['seconds']:.2f} s"
    peak = "-" if result["peak_mb"] is None else f"{result['peak_mb']:.0f} MB"
    return f"{seconds:>10} {peak:>8}  {result['outcome']}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--src", type=Path, default=ROOT, help="checkout whose policywatch package is measured")
    parser.add_argument("--compare", type=Path, help="also measure this checkout (the code before) and print ratios")
    parser.add_argument("--only", default="", help="run the cases whose name starts with this")
    parser.add_argument("--cap", type=float, default=120.0, help="seconds after which a case is stopped")
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        run_one(*args.child)
        return 0
    if args.cap <= 0:
        parser.error("--cap must be positive")
    cases = [(m, n) for m, n in all_cases() if n.startswith(args.only)]
    if not cases:
        parser.error(f"no case starts with {args.only!r}")
    for module, name in cases:
        now = measure(args.src, module, name, args.cap)
        print(f"{name}")
        if args.compare:
            before = measure(args.compare, module, name, args.cap)
            print(f"  before {_fmt(before)}")
            print(f"  after  {_fmt(now)}")
            if before["seconds"] and now["seconds"]:
                print(f"  time ratio before/after: {before['seconds'] / max(now['seconds'], 1e-3):.1f}x", end="")
                if before["peak_mb"] and now["peak_mb"]:
                    print(f", memory ratio: {before['peak_mb'] / now['peak_mb']:.1f}x", end="")
                print()
        else:
            print(f"  {_fmt(now)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
