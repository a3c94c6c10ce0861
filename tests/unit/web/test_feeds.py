"""The feed's XML without AWS: instants normalised to RFC 3339, and text XML cannot carry dropped.

The feeds on real data, through the web function, are tests/integration/web/test_feeds.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from policywatch.web import feeds
from policywatch.web.request import Request

A = "{http://www.w3.org/2005/Atom}"


@pytest.mark.parametrize(
    ("moment", "stamp", "expected"),
    [
        ("2025-08-29T00:32:02Z", "", "2025-08-29T00:32:02Z"),
        ("2025-08-29T02:32:02+02:00", "", "2025-08-29T00:32:02Z"),
        ("2025-08-29T00:32:02.734Z", "", "2025-08-29T00:32:02Z"),
        ("2025-08-29T00:32:02", "", "2025-08-29T00:32:02Z"),  # naive: the archive writes UTC
        (None, "2025-08-29T003202.000Z", "2025-08-29T00:32:02Z"),  # no fetch time: the stamp's
        ("yesterday", "2025-08-29T003202.000Z", "2025-08-29T00:32:02Z"),
        ("", "not a stamp", feeds.EPOCH),
    ],
)
def test_instants_are_rfc_3339_in_utc(moment, stamp, expected):
    assert feeds.rfc3339(moment, stamp) == expected


def test_characters_xml_cannot_carry_are_dropped_and_the_feed_still_parses():
    change = {
        "change_id": "0" * 24,
        "platform": "example",
        "platform_name": "Example\x00 AI",
        "document": "terms",
        "document_type": "Terms of Service",
        "stamp": "2026-01-02T030405.000Z",
        "fetched_at": "2026-01-02T03:04:05Z",
        "severity": "low",
        "direction": "neutral",
        "summary": "Adds a\x0b clause \ud800about\ufffe bells.",
        "categories": [],
        "provisions": [],
        "counts": {"added": 1},
        "passages": [{"op": "added", "heading": "", "before": "", "after": "Bells\x1b ring </content> & <b>loud</b>."}],
    }
    feed = feeds.Feed("feeds/changes", "t", "s", "/", None, [change])
    body = feeds.render(feed, Request("GET", "/feeds/changes.atom", base_url="https://x.test"), "https://x.test/f", {})
    body.encode()  # no lone surrogate left to fail the response's encoding
    [entry] = ET.fromstring(body).iterfind(f"{A}entry")
    assert entry.findtext(f"{A}title") == "Example AI Terms of Service: low — Adds a clause about bells."
    assert "Bells ring &lt;/content&gt; &amp; &lt;b&gt;loud&lt;/b&gt;." in entry.findtext(f"{A}content")
    assert [link.get("type") for link in ET.fromstring(body).iterfind(f"{A}link")] == [
        "application/atom+xml",
        "text/html",
    ]
