"""The API's OpenAPI document: valid OpenAPI 3.1, shipped in the package, describing every route.

The answers themselves are checked against it route by route, on real data, in
tests/integration/web/test_api.py; here the document is checked as a document, and the API's
routing without AWS (a stand-in site that knows nothing).
"""

from __future__ import annotations

import json
import re
from importlib import resources
from typing import Any

import pytest
from openapi_schema_validator import OAS31Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from policywatch.storage.errors import StorageError
from policywatch.web import api
from policywatch.web.request import Request
from tests.helpers.paths import ROOT

CHANGE_SCHEMA = ROOT / "layers/policywatch/policywatch/core/change.schema.json"
SAMPLES = {
    "platform": "anthropic",
    "document": "privacy-policy",
    "stamp": "2025-08-29T003202.000Z",
    "category": "minors",
}


class Index:
    """The read model with nothing in it."""

    def query(self, pk: str, **_: Any) -> tuple[list[dict[str, Any]], str | None]:
        return [], None

    def get(self, pk: str, sk: str) -> None:
        return None


class EmptySite:
    """A site that knows no platform, document, change or category; ``error`` fails every read."""

    def __init__(self, error: Exception | None = None) -> None:
        self.index, self.error = Index(), error

    def _read(self, value: Any) -> Any:
        if self.error:
            raise self.error
        return value

    def platforms(self) -> list[dict[str, Any]]:
        return self._read([])

    def platform(self, platform_id: str) -> None:
        return self._read(None)

    def document(self, platform_id: str, document_id: str) -> None:
        return self._read(None)

    def changes(self, **_: Any) -> tuple[list[dict[str, Any]], None]:
        return self._read(([], None))

    def change(self, platform_id: str, document_id: str, stamp: str) -> None:
        return self._read(None)

    def categories(self) -> list[dict[str, str]]:
        return self._read([])

    def provision(self, category: str) -> list[dict[str, Any]]:
        return self._read([])


def answer(path: str, site: EmptySite | None = None, **query: str) -> tuple[int, Any, dict[str, str]]:
    page = api.route(site or EmptySite(), Request("GET", path, query, "https://policywatch.test"))  # type: ignore[arg-type]
    assert page is not None and page.content_type == "application/json"
    return page.status, json.loads(page.body), dict(page.headers)


def concrete(template: str) -> str:
    """A documented path with sample values in its parameters."""
    return api.PREFIX + re.sub(r"\{([^}]+)\}", lambda m: SAMPLES[m.group(1)], template)


def test_the_document_is_valid_openapi_3_1():
    document = api.openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_it_is_read_from_the_package_in_the_policywatch_layer():
    shipped = resources.files("policywatch.web").joinpath("openapi.json")
    assert shipped.is_file() and json.loads(shipped.read_text(encoding="utf-8")) == api.openapi_document()
    layer = (ROOT / "layers/policywatch").resolve()  # template.yaml's PolicywatchLayer ContentUri: all of it ships
    with resources.as_file(shipped) as path:
        assert layer in path.resolve().parents


def test_the_served_document_names_the_site_it_is_served_from():
    status, document, _ = answer("/api/v1/openapi.json")
    assert status == 200 and document["servers"] == [{"url": "https://policywatch.test/api/v1"}]
    validate(document)


def test_every_documented_route_is_routed_and_nothing_else_is():
    for template in api.openapi_document()["paths"]:
        status, body, _ = answer(concrete(template))
        assert status in (200, 404), template
        assert status == 200 or "no such API route" not in body["error"], template
    for path in ("/api/v1/versions", "/api/v1/platforms/anthropic/documents", "/api/v1/changes/anthropic"):
        status, body, _ = answer(path)
        assert (status, body) == (404, {"error": "no such API route; the routes are in /api/v1/openapi.json"})
    assert api.route(EmptySite(), Request("GET", "/api/v2/platforms")) is None  # type: ignore[arg-type]
    assert api.route(EmptySite(), Request("GET", "/feeds/changes.atom")) is None  # type: ignore[arg-type]


def test_every_operation_documents_its_caching_and_its_errors():
    document = api.openapi_document()
    for template, item in document["paths"].items():
        responses = item["get"]["responses"]
        assert {"200", "304", "503"} <= set(responses), template
        assert {"ETag", "Cache-Control"} <= set(responses["200"]["headers"]), template
        parameters = [
            p["$ref"].rsplit("/", 1)[1] if "$ref" in p else p["name"] for p in item["get"].get("parameters", [])
        ]
        assert set(re.findall(r"\{([^}]+)\}", template)) <= set(parameters), template
        if "cursor" in parameters:
            assert "Link" in responses["200"]["headers"] and "400" in responses, template
        if "{" in template:
            assert "404" in responses, template


def test_a_storage_failure_is_a_json_503_with_retry_after():
    failing = EmptySite(StorageError("Query", "ProvisionedThroughputExceededException", "slow down"))
    status, body, headers = answer("/api/v1/platforms", failing)
    assert (status, headers) == (503, {"Retry-After": "60"})
    _conforms(body, "Error")


@pytest.mark.parametrize("limit", ["0", "201", "x"])
def test_an_error_is_the_documented_error_object(limit):
    status, body, _ = answer("/api/v1/changes", limit=limit)
    assert status == 400
    _conforms(body, "Error")


def test_the_change_record_schema_is_the_pipeline_s_own():
    """The API serves change records as the diff stage wrote them: its schema is core/change.schema.json's."""
    core = json.loads(CHANGE_SCHEMA.read_text())
    schemas = api.openapi_document()["components"]["schemas"]

    def here(node: Any) -> Any:
        if isinstance(node, dict):
            return {
                k: f"#/components/schemas/Change{v.rsplit('/', 1)[1].capitalize()}" if k == "$ref" else here(v)
                for k, v in node.items()
            }
        return [here(v) for v in node] if isinstance(node, list) else node

    for name, schema in core["$defs"].items():
        assert schemas[f"Change{name.capitalize()}"] == here(schema), name
    record = schemas["ChangeRecord"]
    assert {k: v for k, v in record["properties"].items() if k != "links"} == here(core["properties"])
    assert record["required"] == [*core["required"], "links"]
    for key in ("type", "additionalProperties", "allOf"):
        assert record[key] == here(core[key]), key


def _conforms(body: Any, schema: str) -> None:
    registry = Registry().with_resource("urn:openapi", Resource.from_contents(api.openapi_document(), DRAFT202012))
    OAS31Validator({"$ref": f"urn:openapi#/components/schemas/{schema}"}, registry=registry).validate(body)
