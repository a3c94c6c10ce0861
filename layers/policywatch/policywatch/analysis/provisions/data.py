"""The taxonomy and the regulatory mapping, loaded from ``analysis/data`` and checked once."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from policywatch.analysis.provisions.model import ProvisionsError
from policywatch.analysis.provisions.taxonomy import Taxonomy


def _load(name: str) -> dict[str, Any]:
    package = resources.files("policywatch.analysis") / "data"
    data = json.loads((package / f"{name}.json").read_text())
    schema = json.loads((package / f"{name}.schema.json").read_text())
    import jsonschema  # here: the data is checked once, when first loaded

    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(top)"
        raise ProvisionsError(f"analysis/data/{name}.json: {where}: {exc.message}") from None
    return data


@cache
def taxonomy() -> Taxonomy:
    return Taxonomy(_load("provisions"))


@cache
def regulations() -> dict[str, Any]:
    data = _load("regulations")
    known = set(data["regulations"])
    for category, mapping in data["categories"].items():
        unknown = {e["regulation"] for e in mapping["engages"]} - known
        if unknown:
            raise ProvisionsError(f"analysis/data/regulations.json: {category}: unknown regulations {sorted(unknown)}")
    missing = set(taxonomy().categories) - set(data["categories"])
    if missing:
        raise ProvisionsError(f"analysis/data/regulations.json: no mapping for categories {sorted(missing)}")
    return data


def regulatory_mapping(category: str, *, checks: bool = False) -> dict[str, Any]:
    """What a category engages: exposure level, jurisdictions and each reference with its reason.

    With ``checks``, also what a compliance team should check when such a provision changes
    (key ``checks``, 2-4 sentences). They are left out by default because this mapping is
    stored in change records as it is, and the change record schema admits only the other keys:
    pages read the checks from here, by category, when they show them.
    """
    data = regulations()
    mapping = data["categories"][category]
    engages = [
        {
            "regulation": data["regulations"][e["regulation"]]["short"],
            "reference": e["reference"],
            "reason": e["reason"],
            "jurisdiction": data["regulations"][e["regulation"]]["jurisdiction"],
        }
        for e in mapping["engages"]
    ]
    result: dict[str, Any] = {
        "exposure": mapping["exposure"],
        "jurisdictions": sorted({e["jurisdiction"] for e in engages}),
        "engages": engages,
    }
    if checks:
        result["checks"] = list(mapping["checks"])
    return result
