"""Typed settings, one class per function, read from the environment the template gives it.

A settings class is a frozen, keyword-only dataclass whose fields name their variable once::

    @dataclass(frozen=True, kw_only=True)
    class DiffSettings(Settings):
        change_topic_arn: str = env("CHANGE_TOPIC_ARN")
        fetch_budget: float = env("FETCH_BUDGET_SECONDS", 60)
        read_timeout: float = env("READ_TIMEOUT_MS", 10.0, per=1000)  # given in ms, kept in seconds

``DiffSettings.from_env()`` parses each field as its annotated type (``str``, ``int``, ``float``)
and raises ``ConfigError`` naming the first variable that is missing or malformed, never its
value. Handlers call ``check_at_cold_start`` at import, so a broken deployment fails its cold start
with that one line, and read their settings with ``from_env()`` on each invocation (cached while
the environment is the same). Tests build settings directly: ``DiffSettings(change_topic_arn=...)``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import cache
from typing import Any, Self, get_type_hints

from policywatch.core.errors import ConfigError

_PARSERS = {str: str, int: int, float: float}


def env(name: str, default: Any = MISSING, *, per: int | None = None) -> Any:
    """A field read from the environment variable ``name``; a number given in units of 1/``per`` (ms: 1000)."""
    return field(default=default, metadata={"env": name, "per": per})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """The base of every function's settings (see the module docstring)."""

    @classmethod
    def variables(cls) -> list[str]:
        return [f.metadata["env"] for f in fields(cls) if "env" in f.metadata]

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        environ = os.environ if environ is None else environ
        values = tuple((name, environ.get(name)) for name in cls.variables())
        return _load(cls, values)  # type: ignore[arg-type]  # mypy: a class is never "Hashable" (python/mypy#11470)


@cache
def _load[S: Settings](cls: type[S], values: tuple[tuple[str, str | None], ...]) -> S:
    given = dict(values)
    hints = get_type_hints(cls)
    kwargs: dict[str, Any] = {}
    for spec in fields(cls):
        name = spec.metadata.get("env")
        if name is None:
            continue
        raw = (given.get(name) or "").strip()
        if not raw:
            if spec.default is MISSING:
                raise ConfigError(f"environment variable {name} is not set")
            continue
        kwargs[spec.name] = _parse(name, raw, hints[spec.name], spec.metadata["per"])
    return cls(**kwargs)


def _parse(name: str, raw: str, kind: type, per: int | None) -> Any:
    try:
        value = _PARSERS[kind](raw)
    except ValueError:
        raise ConfigError(
            f"environment variable {name} must be {'an integer' if kind is int else 'a number'}"
        ) from None
    if kind is not str and value < 0:
        raise ConfigError(f"environment variable {name} must not be negative")
    return value / per if per else value


def check_at_cold_start(cls: type[Settings]) -> None:
    """Validate ``cls`` now when running in Lambda: a broken deployment fails its cold start, naming the variable."""
    if os.environ.get("AWS_LAMBDA_FUNCTION_NAME"):
        cls.from_env()
