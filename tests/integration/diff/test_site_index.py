"""What the diff stage writes to the site's read model, on real histories (storage/site.py)."""

from __future__ import annotations

from policywatch.analysis.changes import process_version
from policywatch.storage.archive import Archive
from policywatch.storage.site import SiteIndex
from policywatch.storage.topics import Topic
from tests.helpers.aws import BUCKET
from tests.helpers.site import CHATGPT, CLAUDE, load_history

DOC = "doc#anthropic/privacy-policy"


def test_every_version_and_change_is_indexed_and_alerting_ones_are_in_their_feeds(stack):
    keys = load_history(CLAUDE, stack.change_topic_arn, last=4)  # 2025-08-01 .. 2025-08-30
    site = SiteIndex("site")
    versions, _ = site.query(DOC, prefix="v#")
    changes, _ = site.query(DOC, prefix="c#")
    assert [v["key"] for v in versions] == keys
    assert versions[0]["change"] is None and all(v["change"] for v in versions[1:])
    assert all(len(v["sha256"]) == 64 and v["chars"] > 10_000 for v in versions)
    assert len(changes) == 3 and {c["kind"] for c in changes} >= {"substantive"}

    training = next(c for c in changes if c["stamp"].startswith("2025-08-29"))
    assert training["severity"] == "high" and "model-training" in training["categories"]
    assert training["record_key"] == "changes/anthropic/privacy-policy/" + training["stamp"] + ".json"
    assert "passages" not in training  # the document's list stays small: the feeds carry the passages
    feeds = (
        "feed#all",
        "feed#platform#anthropic",
        "feed#document#anthropic/privacy-policy",
        "feed#category#model-training",
        "feed#min#high",
    )
    for feed in feeds:
        listed, _ = site.query(feed)
        entry = next(c for c in listed if c["change_id"] == training["change_id"])
        assert any("train our models" in p["after"] for p in entry["passages"]), feed
    assert not site.query("feed#min#medium")[0] or all(
        c["severity"] in ("medium", "high") for c in site.query("feed#min#medium")[0]
    )
    non_alerting = [c for c in changes if not c["alert"]]
    everything, _ = site.query("feed#all")
    assert not {c["change_id"] for c in non_alerting} & {c["change_id"] for c in everything}


def test_the_profile_is_the_latest_versions_and_a_late_older_version_leaves_it(stack):
    keys = load_history(CHATGPT, stack.change_topic_arn, last=3)
    site = SiteIndex("site")
    profile = site.get("doc#openai/privacy-policy", "profile")
    assert profile["key"] == keys[-1]
    assert profile["quotes"]["model-training"] and profile["marks"]
    row = site.get("provision#model-training", "openai/privacy-policy")
    assert row["key"] == keys[-1] and row["quotes"] == profile["quotes"]["model-training"]
    silent = site.get("provision#fees-limits", "openai/privacy-policy")
    assert silent is not None and silent["quotes"] == []  # a category it says nothing of: a row saying so

    # The diff of an older version run again (a retry, a redrive) rewrites its own items only.
    archive = Archive(BUCKET)
    record_key = keys[1].replace("versions/", "changes/").removesuffix(".md") + ".json"
    archive.s3.delete_object(Bucket=BUCKET, Key=record_key)
    assert process_version(archive, keys[1], Topic(stack.change_topic_arn), site=site) is not None
    assert site.get("doc#openai/privacy-policy", "profile")["key"] == keys[-1]
