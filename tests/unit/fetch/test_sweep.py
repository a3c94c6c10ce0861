"""The sweep's message groups: documents dealt round robin into per-host slots."""

from policywatch.catalog import Document
from policywatch.fetch.sweep import message_groups


def _doc(platform: str, url: str) -> Document:
    return Document.from_dict(
        {"platform": platform, "type": "Privacy Policy", "pages": [{"url": url, "select": ["main"]}]}
    )


def test_documents_are_dealt_round_robin_into_host_slots():
    docs = [_doc(f"p{i}", f"https://a.example/{i}") for i in range(5)] + [_doc("q", "https://b.example/x")]
    groups = message_groups(docs, per_host=2)
    assert sorted(groups[f"p{i}/privacy-policy"] for i in range(5)) == [
        "a.example#0",
        "a.example#0",
        "a.example#0",
        "a.example#1",
        "a.example#1",
    ]
    assert groups["q/privacy-policy"] == "b.example#0"
