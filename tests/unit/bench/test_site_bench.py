"""The site benchmark's own arithmetic: ids, the fetch stage's gate, growth groups, what a change makes stale.

Policy texts in the gate's test are made up here; the bench itself reads the GenAI bundle
(Open Terms Archive GenAI Contrib, ODC-By 1.0).
"""

from __future__ import annotations

import json

from bench.site import bucket_of, compare_pairs, object_key, percentile, stale_pages
from bench.site_load import Change, Source, archivable, catalog, slug
from policywatch.catalog import parse_catalog_json

POLICY = " ".join(
    f"Section {n}. We collect the personal information you provide when you use the services and keep it "
    "for as long as your account is open, as this privacy policy explains."
    for n in range(12)
)


def _change(**fields) -> Change:
    defaults = dict(
        platform="claude-ai",
        document="privacy-policy",
        document_type="Privacy Policy",
        stamp="2025-08-29T003202.000Z",
        previous_stamp="2025-08-28T003202.000Z",
        kind="substantive",
        alert=True,
        severity="medium",
        categories=("model-training", "training-opt-out"),
    )
    return Change(**{**defaults, **fields})


def test_services_become_catalog_ids():
    assert slug("Claude.ai") == "claude-ai"
    assert slug("DALL·E") == "dall-e"
    assert slug("Nous Research chat") == "nous-research-chat"
    assert slug("SOUNDRAW") == "soundraw"


def test_the_catalog_override_is_one_the_site_accepts():
    documents = [
        Source(
            "Claude.ai/Privacy Policy",
            "Claude.ai",
            "claude-ai",
            "privacy-policy",
            "Privacy Policy",
            "https://a.example/p",
            [],
        ),
        Source(
            "Claude.ai/Terms of Service",
            "Claude.ai",
            "claude-ai",
            "terms-of-service",
            "Terms of Service",
            "https://a.example/t",
            [],
        ),
        Source(
            "DALL·E/Privacy Policy", "DALL·E", "dall-e", "privacy-policy", "Privacy Policy", "https://b.example/p", []
        ),
    ]
    parsed = parse_catalog_json(json.dumps(catalog(documents)), "bench")
    assert [p.id for p in parsed.platforms] == ["claude-ai", "dall-e"]
    assert [d.key for d in parsed.documents()] == [
        "claude-ai/privacy-policy",
        "claude-ai/terms-of-service",
        "dall-e/privacy-policy",
    ]


def test_the_gate_archives_new_text_only():
    history = [
        (1, "2025-01-01T00:00:00+00:00", POLICY),
        (2, "2025-01-02T00:00:00+00:00", POLICY),  # the same text: no new version
        (3, "2025-01-03T00:00:00+00:00", "Error 503"),  # refused by the checks
        (4, "2025-01-04T00:00:00+00:00", POLICY + " We may now share it with partners."),
    ]
    kept, skipped = archivable(history, min_chars=200)
    assert [version.seq for version in kept] == [1, 4]
    assert skipped == {"unchanged": 1, "refused": 1}


def test_growth_groups():
    assert [bucket_of(n) for n in (1, 10, 11, 30, 31, 100, 101, 276)] == [
        "1-10", "1-10", "11-30", "11-30", "31-100", "31-100", ">100", ">100",
    ]  # fmt: skip


def test_compare_pairs_of_a_static_site():
    assert compare_pairs([1, 2, 3, 276]) == 0 + 1 + 3 + 276 * 275 // 2


def test_percentile_is_nearest_rank():
    values = [float(n) for n in range(1, 101)]
    assert percentile(values, 0.5) == 50.0
    assert percentile(values, 0.95) == 95.0
    assert percentile([7.0], 0.95) == 7.0


def test_what_one_alerting_change_makes_stale():
    pages = stale_pages(_change(), "2025-08-16T003202.000Z")
    assert pages[:4] == [
        "/",
        "/platforms/claude-ai",
        "/documents/claude-ai/privacy-policy",
        "/changes/claude-ai/privacy-policy/2025-08-29T003202.000Z",
    ]
    assert "/changes/claude-ai/privacy-policy/2025-08-16T003202.000Z" in pages  # its "next" link
    assert {"/provisions/model-training", "/timeline/training-opt-out", "/feeds/provisions/model-training.atom"} <= set(
        pages
    )
    assert [p for p in pages if p.startswith("/feeds/severity/")] == [
        "/feeds/severity/low.atom",
        "/feeds/severity/medium.atom",
    ]
    assert len(pages) == len(set(pages))


def test_the_first_change_of_a_document_has_no_previous_page():
    pages = stale_pages(_change(categories=(), severity="high"), None)
    assert not any(p.startswith("/changes/") and "2025-08-16" in p for p in pages)
    assert len([p for p in pages if p.startswith("/feeds/severity/")]) == 3


def test_static_object_keys():
    assert object_key("/") == "index.html"
    assert object_key("/platforms/claude-ai") == "platforms/claude-ai/index.html"
    assert object_key("/feeds/changes.atom") == "feeds/changes.atom"
