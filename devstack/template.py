"""CloudFormation YAML as read by the tools: template.yaml, or a template `sam build` wrote.

A short-form intrinsic (``!Ref X``, ``!Sub ...``, ``!GetAtt A.B``) reads as an ``Intrinsic``
(its function's name and its argument); the long form (``{"Ref": "X"}``) is a plain mapping,
as written. Used by the IAM check of the tests, the table definitions and the cold-start bench.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Intrinsic:
    name: str  # "Ref", "GetAtt", "Sub", "Select", "Split", ...
    value: Any


class _Loader(yaml.SafeLoader):
    """A SafeLoader that also reads CloudFormation's short-form tags."""


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Intrinsic:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise yaml.constructor.ConstructorError(None, None, f"!{suffix} on an unexpected node", node.start_mark)
    return Intrinsic(suffix, value)


_Loader.add_multi_constructor("!", _intrinsic)


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)  # noqa: S506 - a SafeLoader subclass


def ref(value: Any) -> str | None:
    """The logical id or parameter a ``Ref`` names, in either form; None for anything else."""
    if isinstance(value, Intrinsic):
        return value.value if value.name == "Ref" else None
    return value.get("Ref") if isinstance(value, dict) else None
