"""The regulatory mapping data: every category's checks, the schema that guards them, and what
``regulatory_mapping`` gives the pipeline (the change record) and the Professional pages."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from policywatch.analysis.provisions import ProvisionsError, regulations, regulatory_mapping, taxonomy
from policywatch.analysis.provisions import data as provisions_data


def _file(package: str, name: str) -> dict[str, Any]:
    return json.loads((resources.files(package) / name).read_text())


def _data() -> dict[str, Any]:
    return _file("policywatch.analysis", "data/regulations.json")


def _schema() -> dict[str, Any]:
    return _file("policywatch.analysis", "data/regulations.schema.json")


def _errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft202012Validator(_schema())
    return ["/".join(str(p) for p in e.absolute_path) for e in validator.iter_errors(document)]


CATEGORIES = sorted(taxonomy().categories)


# --- The checks in the data file ---------------------------------------------------------


def test_the_shipped_data_follows_its_schema():
    assert _errors(_data()) == []


@pytest.mark.parametrize("category", CATEGORIES)
def test_every_category_has_two_to_four_distinct_one_sentence_checks(category):
    checks = regulations()["categories"][category]["checks"]
    assert 2 <= len(checks) <= 4
    assert len(set(checks)) == len(checks)
    for check in checks:
        assert check == check.strip() and 0 < len(check) <= 200, check
        assert check[0].isupper() and check.endswith("."), check
        assert "  " not in check and "\n" not in check, check


def test_checks_are_worded_as_things_to_check_not_legal_conclusions():
    # read by lawyers: a check says what to verify; it never states an outcome as certain
    certain = ("is unlawful", "is illegal", "is lawful", "is compliant", "you are liable", "will be fined")
    for category in CATEGORIES:
        for check in regulations()["categories"][category]["checks"]:
            assert not any(phrase in check.lower() for phrase in certain), (category, check)


# --- The schema refuses categories whose checks are missing or out of bounds -------------


@pytest.mark.parametrize(
    ("checks", "why"),
    [
        (None, "missing"),
        ([], "none"),
        (["Check the notice."], "only one"),
        ([f"Check item {i}." for i in range(5)], "five"),
        (["Check the notice.", ""], "an empty check"),
        (["Check the notice.", "   "], "a blank check"),
        (["Check the notice.", "C" * 200 + "."], "a check over 200 characters"),
        (["Check the notice.", "Check the notice."], "a repeated check"),
        (["Check the notice.", 3], "a check that is not text"),
    ],
)
def test_the_schema_rejects_a_category_with_bad_checks(checks, why):
    document = copy.deepcopy(_data())
    if checks is None:
        del document["categories"]["model-training"]["checks"]
    else:
        document["categories"]["model-training"]["checks"] = checks
    assert any(e.startswith("categories/model-training") for e in _errors(document)), why


def test_loading_data_without_checks_fails_naming_the_category(tmp_path: Path, monkeypatch):
    document = _data()
    del document["categories"]["human-review"]["checks"]
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "regulations.json").write_text(json.dumps(document))
    (tmp_path / "data" / "regulations.schema.json").write_text(json.dumps(_schema()))

    class Files:
        @staticmethod
        def files(package: str) -> Path:
            assert package == "policywatch.analysis"
            return tmp_path

    monkeypatch.setattr(provisions_data, "resources", Files)
    with pytest.raises(ProvisionsError, match=r"regulations\.json: categories/human-review: 'checks' is a required"):
        provisions_data._load("regulations")


# --- regulatory_mapping -------------------------------------------------------------------


@pytest.mark.parametrize("category", CATEGORIES)
def test_regulatory_mapping_returns_the_checks_when_asked(category):
    mapping = regulatory_mapping(category, checks=True)
    assert mapping["checks"] == regulations()["categories"][category]["checks"]
    assert {k: v for k, v in mapping.items() if k != "checks"} == regulatory_mapping(category)


def test_the_checks_returned_are_a_copy_that_cannot_change_the_data():
    regulatory_mapping("model-training", checks=True)["checks"].append("Changed.")
    assert "Changed." not in regulations()["categories"]["model-training"]["checks"]


def test_regulatory_mapping_by_default_keeps_its_keys_and_fits_the_change_record():
    # the analysis stores this mapping in every change record as it is; the record schema
    # (core/change.schema.json) forbids other keys, so the checks stay out of it
    schema = _file("policywatch.core", "change.schema.json")["$defs"]["provision"]["properties"]["regulations"]
    validator = jsonschema.Draft202012Validator(schema)
    for category in CATEGORIES:
        mapping = regulatory_mapping(category)
        assert set(mapping) == {"exposure", "jurisdictions", "engages"}
        assert list(validator.iter_errors(mapping)) == [], category
    assert list(validator.iter_errors(regulatory_mapping("model-training", checks=True)))  # why: no room for checks


def test_regulatory_mapping_keeps_its_existing_shape():
    mapping = regulatory_mapping("model-training")
    assert mapping["exposure"] == "high"
    assert mapping["jurisdictions"] == sorted(mapping["jurisdictions"])
    first = mapping["engages"][0]
    assert (first["regulation"], first["reference"], first["jurisdiction"]) == ("GDPR", "Art. 6(1)(f)", "EU")
    assert first["reason"].startswith("Training on user content")
