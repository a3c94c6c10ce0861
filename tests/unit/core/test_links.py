"""Public links alerts carry: the change page, the archived evidence, one-click unsubscribe; none without a base URL."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from policywatch.core.links import Links

STAMP = "2025-08-29T003202.000Z"


@pytest.mark.parametrize("base", ["https://policywatch.test", "https://policywatch.test/"])
def test_the_change_page_is_the_record_key_without_json(base):
    links = Links(base)
    assert links.enabled
    assert links.change(f"changes/anthropic/privacy-policy/{STAMP}.json") == (
        f"https://policywatch.test/changes/anthropic/privacy-policy/{STAMP}"
    )


def test_the_evidence_is_the_archived_version_as_recorded():
    assert Links("https://policywatch.test").evidence(f"versions/anthropic/privacy-policy/{STAMP}.md") == (
        f"https://policywatch.test/versions/anthropic/privacy-policy/{STAMP}.md"
    )


def test_a_base_url_with_a_path_keeps_it():
    links = Links("https://example.com/policywatch/")
    assert links.change("changes/a/b/x.json") == "https://example.com/policywatch/changes/a/b/x"


def test_the_unsubscribe_link_carries_the_subscriber_and_token_encoded():
    url = Links("https://policywatch.test").unsubscribe("sub_1", "a+b/c=&d")
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc, parts.path) == ("https", "policywatch.test", "/unsubscribe")
    assert parse_qs(parts.query) == {"s": ["sub_1"], "t": ["a+b/c=&d"]}


def test_characters_in_a_key_that_need_it_are_quoted():
    assert Links("https://policywatch.test").change("changes/a b/ü/x.json") == (
        "https://policywatch.test/changes/a%20b/%C3%BC/x"
    )


def test_without_a_base_url_there_are_no_links():
    links = Links()
    assert not links.enabled
    assert links.change("changes/a/b/x.json") is None
    assert links.evidence("versions/a/b/x.md") is None
    assert links.unsubscribe("sub_1", "tok") is None
