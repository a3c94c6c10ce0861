"""The Lambda layers' requirements.txt files pin exactly pyproject.toml's runtime dependencies (`make lint`).

pyproject.toml is where pins are written; the layers' files (one layer per stage's dependencies) are
what `sam build` installs. Together they hold every runtime dependency once pinned the same way; boto3
comes with the Lambda runtime, so it is the one dependency the layers leave out.

    .venv/bin/python scripts/check_pins.py     # exit 1, naming each difference, if they disagree
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
LAYERS = sorted((ROOT / "layers").glob("*/requirements.txt"))
PROVIDED_BY_THE_RUNTIME = {"boto3"}
# Runtime dependencies of the CLI alone: no function imports them, so no layer carries them.
CLI_ONLY = {"cryptography"}  # `policywatch verify` checks checkpoint signatures; functions sign through KMS


def _pins(lines: list[str]) -> dict[str, str]:
    found = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if line:
            requirement = Requirement(line)
            found[requirement.name.lower()] = str(requirement.specifier)
    return found


def differences(pyproject: str | None = None, requirements: str | None = None) -> list[str]:
    """Each way the layer's pins differ from pyproject.toml's (the files' texts, read when not given)."""
    pyproject = (ROOT / "pyproject.toml").read_text() if pyproject is None else pyproject
    requirements = "\n".join(p.read_text() for p in LAYERS) if requirements is None else requirements
    project = tomllib.loads(pyproject)["project"]["dependencies"]
    wanted = {k: v for k, v in _pins(project).items() if k not in PROVIDED_BY_THE_RUNTIME | CLI_ONLY}
    layer = _pins(requirements.splitlines())
    problems = [
        f"{name}{spec} is in pyproject.toml but not in {"the layers' requirements"}"
        for name, spec in wanted.items()
        if name not in layer
    ]
    problems += [
        f"{name}{spec} is in {"the layers' requirements"} but not in pyproject.toml"
        for name, spec in layer.items()
        if name not in wanted
    ]
    problems += [
        f"{name}: pyproject.toml pins {wanted[name] or '(nothing)'}, {"the layers' requirements"} pins {spec or '(nothing)'}"
        for name, spec in layer.items()
        if name in wanted and wanted[name] != spec
    ]
    return problems


def main() -> int:
    problems = differences()
    for problem in problems:
        print(f"check_pins: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
