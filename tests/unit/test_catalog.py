"""The packaged catalog and its validation."""

import json

import pytest

from policywatch.catalog import CatalogError, document_id, load_packaged, parse_catalog, parse_catalog_json


def test_packaged_catalog_is_valid_and_covers_the_launch_platforms():
    catalog = load_packaged()
    ids = set(catalog.platform_ids())
    assert {
        "anthropic",
        "openai",
        "google",
        "microsoft-copilot",
        "meta-ai",
        "mistral",
        "xai",
        "deepseek",
        "perplexity",
        "midjourney",
        "character-ai",
        "writer",
        "stability-ai",
        "github-copilot",
    } <= ids
    for platform in catalog.platforms:
        types = {d.type for d in platform.documents}
        assert {"Privacy Policy", "Terms of Service"} <= types, platform.id
    assert len(catalog.documents()) >= 35


def test_document_identity():
    assert document_id("Privacy Policy") == "privacy-policy"
    doc = load_packaged().platform("anthropic").documents[0]
    assert doc.key == "anthropic/privacy-policy"


def test_every_error_names_the_source_and_field():
    bad = {
        "id": "Bad Id",
        "name": "",
        "operator": "x",
        "documents": [{"type": "Privacy Policy", "pages": [{"url": "ftp://x", "select": []}]}],
    }
    with pytest.raises(CatalogError) as caught:
        parse_catalog([("platforms/bad.json", bad)])
    message = str(caught.value)
    assert "platforms/bad.json: id:" in message
    assert "platforms/bad.json: name:" in message
    assert "platforms/bad.json: documents[0].pages[0].url:" in message
    assert "platforms/bad.json: documents[0].pages[0].select:" in message


def test_duplicate_platforms_and_document_types_are_refused():
    decl = {
        "id": "a",
        "name": "A",
        "operator": "A",
        "documents": [{"type": "Privacy Policy", "pages": [{"url": "https://a/p", "select": ["main"]}]}],
    }
    with pytest.raises(CatalogError, match="already declared in one.json"):
        parse_catalog([("one.json", decl), ("two.json", decl)])
    twice = {**decl, "documents": decl["documents"] * 2}
    with pytest.raises(CatalogError, match="declared twice"):
        parse_catalog([("x.json", twice)])


def test_override_format():
    decl = {
        "id": "a",
        "name": "A",
        "operator": "A",
        "documents": [{"type": "Privacy Policy", "pages": [{"url": "http://127.0.0.1:1/p", "select": ["main"]}]}],
    }
    assert parse_catalog_json(json.dumps({"platforms": [decl]}), "override").platform_ids() == ["a"]
    with pytest.raises(CatalogError, match="override: not valid JSON"):
        parse_catalog_json("{", "override")
    with pytest.raises(CatalogError, match="'platforms' list"):
        parse_catalog_json("[]", "override")
