"""Typed settings from the environment: each field parsed as its type, a broken variable named, never its value."""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import FrozenInstanceError, dataclass, fields
from typing import get_type_hints

import pytest

import policywatch
from policywatch.core.errors import ConfigError, InternalError
from policywatch.core.settings import Settings, check_at_cold_start, env


@dataclass(frozen=True, kw_only=True)
class ExampleSettings(Settings):
    topic_arn: str = env("EXAMPLE_TOPIC_ARN")
    attempts: int = env("EXAMPLE_ATTEMPTS", 3)
    budget: float = env("EXAMPLE_BUDGET_SECONDS", 60.0)
    read_timeout: float = env("EXAMPLE_READ_TIMEOUT_MS", 10.0, per=1000)  # given in ms, kept in seconds
    label: str = env("EXAMPLE_LABEL", "")


REQUIRED = {"EXAMPLE_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:changes"}
SECRET_LOOKING = "s3cr3t-9f2c"  # a value no error may repeat


def test_each_field_is_parsed_as_its_annotated_type():
    settings = ExampleSettings.from_env(
        {
            **REQUIRED,
            "EXAMPLE_ATTEMPTS": "5",
            "EXAMPLE_BUDGET_SECONDS": "2.5",
            "EXAMPLE_READ_TIMEOUT_MS": "2500",
            "EXAMPLE_LABEL": " 42 ",
        }
    )
    assert settings == ExampleSettings(
        topic_arn="arn:aws:sns:us-east-1:123456789012:changes", attempts=5, budget=2.5, read_timeout=2.5, label="42"
    )
    assert type(settings.attempts) is int and type(settings.budget) is float and type(settings.label) is str
    assert settings.label == "42"  # a string stays a string, stripped, even when it looks like a number


def test_a_whole_number_for_a_float_field_is_a_float():
    settings = ExampleSettings.from_env({**REQUIRED, "EXAMPLE_BUDGET_SECONDS": "7"})
    assert settings.budget == 7.0 and type(settings.budget) is float


@pytest.mark.parametrize(("given", "seconds"), [("1000", 1.0), ("250", 0.25), ("0", 0.0), ("1.5", 0.0015)])
def test_a_variable_given_per_1000_is_kept_in_seconds(given, seconds):
    assert ExampleSettings.from_env({**REQUIRED, "EXAMPLE_READ_TIMEOUT_MS": given}).read_timeout == seconds


def test_a_default_is_not_divided_by_per():
    """The default is written in the field's own unit (seconds), only the variable in its (ms)."""
    assert ExampleSettings.from_env(REQUIRED).read_timeout == 10.0


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_an_unset_or_blank_variable_takes_the_default(blank):
    environ = dict(REQUIRED) if blank is None else {**REQUIRED, "EXAMPLE_ATTEMPTS": blank, "EXAMPLE_LABEL": blank}
    settings = ExampleSettings.from_env(environ)
    assert (settings.attempts, settings.budget, settings.read_timeout, settings.label) == (3, 60.0, 10.0, "")


@pytest.mark.parametrize("environ", [{}, {"EXAMPLE_TOPIC_ARN": ""}, {"EXAMPLE_TOPIC_ARN": "  \t"}])
def test_a_missing_required_variable_fails_naming_it(environ):
    with pytest.raises(ConfigError) as failed:
        ExampleSettings.from_env(environ)
    assert str(failed.value) == "environment variable EXAMPLE_TOPIC_ARN is not set"


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("EXAMPLE_ATTEMPTS", SECRET_LOOKING, "environment variable EXAMPLE_ATTEMPTS must be an integer"),
        ("EXAMPLE_ATTEMPTS", "2.5", "environment variable EXAMPLE_ATTEMPTS must be an integer"),
        ("EXAMPLE_BUDGET_SECONDS", SECRET_LOOKING, "environment variable EXAMPLE_BUDGET_SECONDS must be a number"),
        ("EXAMPLE_READ_TIMEOUT_MS", "10ms", "environment variable EXAMPLE_READ_TIMEOUT_MS must be a number"),
        ("EXAMPLE_ATTEMPTS", "-4", "environment variable EXAMPLE_ATTEMPTS must not be negative"),
        ("EXAMPLE_BUDGET_SECONDS", "-0.5", "environment variable EXAMPLE_BUDGET_SECONDS must not be negative"),
    ],
)
def test_a_malformed_number_fails_naming_the_variable_never_its_value(name, raw, message):
    with pytest.raises(ConfigError) as failed:
        ExampleSettings.from_env({**REQUIRED, name: raw})
    assert str(failed.value) == message
    assert raw not in str(failed.value)
    chained = failed.value.__cause__ or (None if failed.value.__suppress_context__ else failed.value.__context__)
    assert chained is None  # no chained error quoting the value in a traceback either


def test_the_first_broken_variable_in_field_order_is_the_one_named():
    with pytest.raises(ConfigError, match="EXAMPLE_TOPIC_ARN is not set"):
        ExampleSettings.from_env({"EXAMPLE_ATTEMPTS": "many"})
    with pytest.raises(ConfigError, match="EXAMPLE_ATTEMPTS must be an integer"):
        ExampleSettings.from_env({**REQUIRED, "EXAMPLE_ATTEMPTS": "many", "EXAMPLE_BUDGET_SECONDS": "long"})


def test_a_config_error_is_an_internal_error():
    """A broken deployment is never the caller's fault: handlers treat it as a bug, and alarms fire."""
    assert issubclass(ConfigError, InternalError)


def test_variables_lists_each_fields_variable_in_order():
    assert ExampleSettings.variables() == [
        "EXAMPLE_TOPIC_ARN",
        "EXAMPLE_ATTEMPTS",
        "EXAMPLE_BUDGET_SECONDS",
        "EXAMPLE_READ_TIMEOUT_MS",
        "EXAMPLE_LABEL",
    ]


def test_from_env_reads_the_process_environment_by_default(monkeypatch):
    monkeypatch.setenv("EXAMPLE_TOPIC_ARN", "arn:from-the-process")
    monkeypatch.setenv("EXAMPLE_ATTEMPTS", "9")
    settings = ExampleSettings.from_env()
    assert (settings.topic_arn, settings.attempts) == ("arn:from-the-process", 9)


def test_settings_are_read_once_per_environment_and_frozen():
    first = ExampleSettings.from_env({**REQUIRED, "EXAMPLE_ATTEMPTS": "4"})
    assert ExampleSettings.from_env({**REQUIRED, "EXAMPLE_ATTEMPTS": "4", "UNRELATED": "x"}) is first
    assert ExampleSettings.from_env({**REQUIRED, "EXAMPLE_ATTEMPTS": "5"}).attempts == 5
    with pytest.raises(FrozenInstanceError):
        first.attempts = 6  # type: ignore[misc]


def test_tests_build_settings_directly_with_the_defaults():
    settings = ExampleSettings(topic_arn="arn:direct")
    assert (settings.attempts, settings.budget, settings.read_timeout) == (3, 60.0, 10.0)


# --- at cold start ---------------------------------------------------------------------------------


def test_check_at_cold_start_does_nothing_outside_lambda(monkeypatch):
    monkeypatch.delenv("AWS_LAMBDA_FUNCTION_NAME", raising=False)
    monkeypatch.delenv("EXAMPLE_TOPIC_ARN", raising=False)
    monkeypatch.setenv("EXAMPLE_ATTEMPTS", SECRET_LOOKING)
    assert check_at_cold_start(ExampleSettings) is None  # importing a handler in a test or a tool never fails


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({}, "environment variable EXAMPLE_TOPIC_ARN is not set"),
        ({**REQUIRED, "EXAMPLE_ATTEMPTS": SECRET_LOOKING}, "environment variable EXAMPLE_ATTEMPTS must be an integer"),
    ],
)
def test_check_at_cold_start_in_lambda_fails_naming_the_variable(monkeypatch, environ, message):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "policywatch-FetchFunction")
    for name in ExampleSettings.variables():
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as failed:
        check_at_cold_start(ExampleSettings)
    assert str(failed.value) == message and SECRET_LOOKING not in str(failed.value)


def test_check_at_cold_start_in_lambda_passes_a_sound_environment(monkeypatch):
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "policywatch-FetchFunction")
    monkeypatch.setenv("EXAMPLE_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:changes")
    monkeypatch.delenv("EXAMPLE_ATTEMPTS", raising=False)
    assert check_at_cold_start(ExampleSettings) is None


# --- the package's own settings classes -------------------------------------------------------------


def _package_settings() -> list[type[Settings]]:
    for module in pkgutil.walk_packages(policywatch.__path__, "policywatch."):
        importlib.import_module(module.name)
    found, todo = [], list(Settings.__subclasses__())
    while todo:
        cls = todo.pop()
        todo.extend(cls.__subclasses__())
        if cls.__module__.startswith("policywatch.") and cls not in found:
            found.append(cls)
    return sorted(found, key=lambda cls: f"{cls.__module__}.{cls.__qualname__}")


def test_the_package_declares_settings_classes():
    names = {cls.__name__ for cls in _package_settings()}
    assert {"FetchSettings", "SweepSettings", "DiffSettings", "NotifySettings", "WebSettings"} <= names


@pytest.mark.parametrize("cls", _package_settings(), ids=lambda cls: cls.__name__)
def test_every_field_of_the_packages_settings_has_a_type_the_loader_parses_and_one_variable(cls):
    hints = get_type_hints(cls)
    declared = [f for f in fields(cls) if "env" in f.metadata]
    assert declared, f"{cls.__name__} reads no variable"
    assert {hints[f.name] for f in declared} <= {str, int, float}
    assert len(cls.variables()) == len(set(cls.variables()))  # one field per variable
    assert all(f.metadata["per"] is None or hints[f.name] is float for f in declared)  # a conversion keeps fractions
