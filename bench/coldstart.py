"""Benchmark: every Lambda function's cold import time and the size of what it loads, this tree against a base.

Both trees are built side by side with ``sam build`` (the base from a git worktree in /tmp,
its build kept in .local/bench/coldstart/<rev> and reused unless ``--rebuild``). Every
``AWS::Serverless::Function`` of the built template is then measured as Lambda would load it,
nothing about its name or its layers assumed:

- import time: ``import <handler module>`` timed with perf_counter in a fresh Python 3.12
  (``-I -S -B``: no site-packages, no bytecode written, as /var/task and /opt are read-only and
  the build holds none) whose path is the function's code, its layers' ``python/`` and a runtime
  directory with only boto3 and its dependencies; the environment is the function's own
  (Globals and its Environment.Variables, intrinsics given plausible values) plus Powertools'
  service and namespace and the region. Median and min of ``--runs``; boto3 alone is the floor.
- size: bytes of every file in the function's code and its layers (apparent size, 1 MB = 10^6 B).

Targets (the new tree): every handler imports in at most 250 ms (median), and the largest
function (code and all its layers) is under half the base's largest layer (the base has one).

    .venv/bin/python -m bench.coldstart [--base 1c42d1a] [--new REV] [--runs 7] [--rebuild]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3

from devstack import template as cfn

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".local/bench/coldstart"
RUNTIME = WORK / "runtime"  # what the python3.12 Lambda runtime ships besides the standard library
RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six.py")
LAMBDA_ENV = {
    "POWERTOOLS_SERVICE_NAME": "policywatch",
    "POWERTOOLS_METRICS_NAMESPACE": "policywatch",
    "AWS_DEFAULT_REGION": "us-east-1",
}
PLACEHOLDERS = (  # an intrinsic's value, by the variable's name (first match); "placeholder" otherwise
    ("QUEUE_URL", "https://sqs.us-east-1.amazonaws.com/000000000000/placeholder"),
    ("DLQ_URL", "https://sqs.us-east-1.amazonaws.com/000000000000/placeholder"),
    ("TOPIC_ARN", "arn:aws:sns:us-east-1:000000000000:placeholder"),
    ("_ARN", "arn:aws:lambda:us-east-1:000000000000:function:placeholder"),
    ("EMAIL", "placeholder@example.com"),
    ("_URL", "https://placeholder.example.com"),
)
TIMER = (
    "import importlib, sys, time; sys.path[:0] = sys.argv[2:]; start = time.perf_counter(); "
    "importlib.import_module(sys.argv[1]); print(time.perf_counter() - start)"
)
IMPORT_LIMIT_MS = 250.0
MB = 1_000_000


@dataclass(frozen=True)
class Function:
    """One function of a built template, as Lambda loads it."""

    name: str
    module: str  # the Handler minus its last dotted part
    code: Path
    layers: tuple[Path, ...]  # each layer's build directory (holding python/)
    env: dict[str, str]


@dataclass(frozen=True)
class Timing:
    median_ms: float = 0.0
    min_ms: float = 0.0
    error: str = ""  # the last line of stderr when the import failed


@dataclass(frozen=True)
class Tree:
    """One built tree, measured."""

    label: str
    timings: dict[str, Timing]
    sizes: dict[str, int]  # function -> bytes of its code and layers
    largest: str  # the function loading the most
    largest_layer: tuple[str, int]  # (logical id, bytes)
    top_packages: list[tuple[str, int]]  # in the largest function


def _version(python: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", python.parent.parent.name))


def _works(python: Path) -> bool:
    check = [str(python), "-c", "import sys; assert sys.version_info[:2] == (3, 12)"]
    return python.is_file() and subprocess.run(check, capture_output=True).returncode == 0


def find_python() -> Path:
    """Python 3.12 as scripts/bootstrap.sh finds it: pyenv's interpreters (not the shim) first, then PATH."""
    roots = [Path.home() / ".pyenv"]
    if pyenv := shutil.which("pyenv"):
        roots.insert(0, Path(subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()))
    candidates = [p for root in roots for p in sorted(root.glob("versions/3.12*/bin/python3.12"), key=_version)[::-1]]
    others = (shutil.which("python3.12"), "/usr/local/bin/python3.12", "/usr/bin/python3.12")
    found = next((p for p in [*candidates, *(Path(o) for o in others if o)] if _works(p)), None)
    if found is None:
        sys.exit("no Python 3.12 found: install it (e.g. pyenv install 3.12) and retry")
    return found


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def checkout(rev: str) -> Path:
    """A worktree of ``rev`` in /tmp (reused when present)."""
    tree = Path(f"/tmp/pw-coldstart-{rev}")
    if not (tree / "template.yaml").exists():
        _git("worktree", "add", "--detach", str(tree), rev)
    return tree


def build(tree: Path, out: Path, python: Path) -> None:
    """``sam build`` of ``tree`` into ``out/build``, with Python 3.12 on PATH."""
    shutil.rmtree(out / "build", ignore_errors=True)
    env = {**os.environ, "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    command = [str(ROOT / ".venv/bin/sam"), "build", "--template-file", str(tree / "template.yaml")]
    command += ["--build-dir", str(out / "build"), "--cache-dir", str(out / "cache"), "--cached", "--parallel"]
    print(f"sam build {tree} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"sam build of {tree} failed:\n" + "\n".join((done.stdout + done.stderr).splitlines()[-15:]))


def built(rev: str | None, python: Path, rebuild: bool) -> tuple[str, Path]:
    """(label, build dir) of a commit (built once, in a worktree) or of the working tree (built every run)."""
    if rev is None:
        build(ROOT, WORK / "working-tree", python)
        return "working tree", WORK / "working-tree/build"
    rev = _git("rev-parse", "--short", f"{rev}^{{commit}}")
    if rebuild or not (WORK / rev / "build/template.yaml").exists():
        build(checkout(rev), WORK / rev, python)
    return rev, WORK / rev / "build"


def _template(build_dir: Path) -> dict[str, Any]:
    return cfn.load(build_dir / "template.yaml")


def _env_value(name: str, value: Any, parameters: dict[str, Any]) -> str:
    """What Lambda would hold: a literal as written, a parameter's Default, else a placeholder of the right shape."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    default = parameters.get(cfn.ref(value) or "", {}).get("Default")
    if default is not None:
        return str(default)
    return next((v for key, v in PLACEHOLDERS if key in name), "placeholder")


def _variables(properties: dict[str, Any], parameters: dict[str, Any]) -> dict[str, str]:
    declared = (properties.get("Environment") or {}).get("Variables") or {}
    return {name: _env_value(name, value, parameters) for name, value in declared.items()}


def _function(name: str, properties: dict[str, Any], template: dict[str, Any], build_dir: Path) -> Function:
    """A function's code, layers and environment: Globals.Function first, its own properties over them."""
    defaults = (template.get("Globals") or {}).get("Function") or {}
    parameters = template.get("Parameters") or {}
    resources = template["Resources"]
    layers = [cfn.ref(layer) for layer in [*defaults.get("Layers", []), *properties.get("Layers", [])]]
    handler = properties.get("Handler", defaults.get("Handler", ""))
    return Function(
        name=name,
        module=handler.rpartition(".")[0],
        code=build_dir / properties.get("CodeUri", defaults.get("CodeUri", name)),
        layers=tuple(build_dir / resources[layer]["Properties"].get("ContentUri", layer) for layer in layers if layer),
        env={**_variables(defaults, parameters), **_variables(properties, parameters)},
    )


def functions(build_dir: Path) -> list[Function]:
    """Every AWS::Serverless::Function of the built template."""
    template = _template(build_dir)
    return [
        _function(name, resource.get("Properties") or {}, template, build_dir)
        for name, resource in template["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::Function"
    ]


def layer_sizes(build_dir: Path) -> dict[str, int]:
    """Bytes of every AWS::Serverless::LayerVersion of the built template."""
    return {
        name: tree_bytes(build_dir / resource["Properties"].get("ContentUri", name))
        for name, resource in _template(build_dir)["Resources"].items()
        if resource.get("Type") == "AWS::Serverless::LayerVersion"
    }


def runtime() -> Path:
    """boto3 and its dependencies copied once from the dev venv: all the Lambda runtime adds to the stdlib."""
    if not RUNTIME.exists():
        site_packages = Path(boto3.__file__).parent.parent
        staging = RUNTIME.with_name("runtime.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        for name in RUNTIME_PACKAGES:
            source = site_packages / name
            (shutil.copytree if source.is_dir() else shutil.copy)(source, staging / name)
        staging.rename(RUNTIME)
    return RUNTIME


def import_ms(python: Path, module: str, paths: list[Path], env: dict[str, str], runs: int) -> Timing:
    """Median and min of ``runs`` cold imports of ``module``, each in a fresh interpreter."""
    times = []
    prefix = RUNTIME.parent / "pycache"  # bytecode kept apart: the build is measured as built
    for run in range(runs + 1):  # the first run compiles, as the "best of 5" did; not counted
        command = [str(python), "-I", "-S", "-X", f"pycache_prefix={prefix}", "-c", TIMER, module, *map(str, paths)]
        done = subprocess.run(command, env=env, capture_output=True, text=True)
        if done.returncode:
            return Timing(error=(done.stderr.strip().splitlines() or ["no output"])[-1])
        if run:
            times.append(float(done.stdout.split()[-1]) * 1000)
    return Timing(statistics.median(times), min(times))


def tree_bytes(path: Path) -> int:
    """Apparent size of every file under ``path`` (symlinks not followed)."""
    if not path.is_dir():
        return path.lstat().st_size
    return sum((Path(d) / f).lstat().st_size for d, _, files in os.walk(path) for f in files)


def top_packages(function: Function, count: int = 5) -> list[tuple[str, int]]:
    """The largest top-level entries (packages, modules) on the function's path."""
    entries = [function.code, *(layer / "python" for layer in function.layers)]
    sizes = [(entry.name, tree_bytes(entry)) for root in entries if root.is_dir() for entry in root.iterdir()]
    return sorted(sizes, key=lambda item: -item[1])[:count]


def measure(label: str, build_dir: Path, python: Path, runs: int) -> Tree:
    found = functions(build_dir)
    timings, sizes = {}, {}
    for function in found:
        print(f"  {label} {function.name}: import {function.module}", file=sys.stderr, flush=True)
        paths = [function.code, *(layer / "python" for layer in function.layers), runtime()]
        timings[function.name] = import_ms(python, function.module, paths, {**LAMBDA_ENV, **function.env}, runs)
        sizes[function.name] = sum(tree_bytes(root) for root in [function.code, *function.layers])
    largest = max(found, key=lambda f: sizes[f.name])
    layer = max(layer_sizes(build_dir).items(), key=lambda item: item[1], default=("no layer", 0))
    return Tree(label, timings, sizes, largest.name, layer, top_packages(largest))


def _timing(timing: Timing | None) -> str:
    if timing is None:
        return "-"
    return "error" if timing.error else f"{timing.median_ms:.0f} ({timing.min_ms:.0f})"


def _ms(timing: Timing | None) -> float | None:
    return timing.median_ms if timing and not timing.error else None


def _ratio(new: float | None, base: float | None) -> str:
    return f"{new / base:.2f}" if new and base else "-"


def _mb(size: int | None) -> str:
    return "-" if size is None else f"{size / MB:.1f}"


def function_line(name: str, base: Tree, new: Tree, floor: Timing) -> tuple[str, bool]:
    """One table line and whether the new tree's import meets the target.

    Beside each median, what it takes above boto3 alone (the floor no handler goes below),
    the part the package's layout decides.
    """
    before, after = base.timings.get(name), new.timings.get(name)
    ok = after is None or (not after.error and after.median_ms <= IMPORT_LIMIT_MS)
    verdict = "" if after is None else ("PASS" if ok else "FAIL")
    ms_ratio = _ratio(_ms(after), _ms(before))
    size_before, size_after = base.sizes.get(name), new.sizes.get(name)
    above = " ".join(f"+{t.median_ms - floor.median_ms:.0f}" if t and not t.error else "-" for t in (before, after))
    line = (
        f"{name:<20} {_timing(before):>11} → {_timing(after):<11} {ms_ratio:>5}  {verdict:<4} {above:>9}   "
        f"{_mb(size_before):>5} → {_mb(size_after):<5} {_ratio(size_after, size_before):>5}"
    )
    return line, ok


def report(base: Tree, new: Tree, floor: Timing, runs: int) -> bool:
    """Print the table and the targets; True when every target is met."""
    print(
        f"import ms: median (min) of {runs} cold imports, limit {IMPORT_LIMIT_MS:.0f} ms; base {base.label}, new {new.label}"
    )
    print(f"{'boto3 alone (floor)':<20} {_timing(floor):>11}\n")
    print(f"{'function':<20} {'import ms (base → new, ratio)':<39} {'> boto3':>9}   {'loads MB (base → new, ratio)'}")
    passed = True
    for name in dict.fromkeys([*new.timings, *base.timings]):
        line, ok = function_line(name, base, new, floor)
        passed &= ok
        print(line)
    for label, tree in (("base", base), ("new", new)):
        for name, timing in tree.timings.items():
            if timing.error:
                print(f"  {label} {name} failed to import: {timing.error}")
    layer, layer_bytes = base.largest_layer
    fits = new.sizes[new.largest] < layer_bytes / 2
    print(
        f"\nlargest function: {new.largest} {_mb(new.sizes[new.largest])} MB, limit {_mb(layer_bytes // 2)} MB "
        f"(half of base layer {layer} {_mb(layer_bytes)} MB): {'PASS' if fits else 'FAIL'}"
    )
    for label, tree in (("base", base), ("new", new)):
        packages = ", ".join(f"{name} {_mb(size)}" for name, size in tree.top_packages)
        print(f"top 5 packages, MB ({label}, {tree.largest}): {packages}")
    return passed and fits


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="1c42d1a", help="commit to compare against (built once, cached)")
    parser.add_argument("--new", help="commit to measure instead of the working tree")
    parser.add_argument("--runs", type=int, default=7, help="cold imports per handler (median and min reported)")
    parser.add_argument("--rebuild", action="store_true", help="build commits again even when cached")
    args = parser.parse_args(argv)
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    python = find_python()
    base = measure(*built(args.base, python, args.rebuild), python, args.runs)
    new = measure(*built(args.new, python, args.rebuild), python, args.runs)
    floor = import_ms(python, "boto3", [runtime()], LAMBDA_ENV, args.runs)
    return 0 if report(base, new, floor, args.runs) else 1


if __name__ == "__main__":
    sys.exit(main())
