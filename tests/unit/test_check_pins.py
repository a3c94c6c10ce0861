"""The layer's pins are pyproject.toml's (scripts/check_pins.py, run by `make lint`)."""

from __future__ import annotations

from scripts.check_pins import differences

PYPROJECT = """
[project]
dependencies = ["requests==2.34.2", "lxml==6.1.3", "boto3"]
"""


def test_the_layer_and_pyproject_agree_today():
    assert differences() == []


def test_boto3_is_left_to_the_lambda_runtime():
    assert differences(PYPROJECT, "requests==2.34.2\nlxml==6.1.3  # parser\n") == []


def test_every_kind_of_disagreement_is_named():
    problems = differences(PYPROJECT, "requests==2.34.1\njinja2==3.1.6\n")
    assert problems == [
        "lxml==6.1.3 is in pyproject.toml but not in the layers' requirements",
        "jinja2==3.1.6 is in the layers' requirements but not in pyproject.toml",
        "requests: pyproject.toml pins ==2.34.2, the layers' requirements pins ==2.34.1",
    ]
