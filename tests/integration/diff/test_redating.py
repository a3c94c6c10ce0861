"""Re-dating flags through the diff function on moto: in the change record, the published event and
the site's read model (issue 17, item 5). Real versions (Open Terms Archive GenAI collection,
ODC-By 1.0) archived as the fetch stage archives them."""

from __future__ import annotations

import json
from datetime import datetime

from functions.diff import diff_handler
from policywatch.analysis.site import rebuild
from policywatch.storage.archive import Archive
from policywatch.storage.site import SiteIndex, doc_pk, feed_keys
from tests.helpers.corpus import CHATGPT, MIDJOURNEY, history_version
from tests.helpers.events import s3_event


def diff(stack, context, document: str, document_type: str, versions: list[tuple[str, str]]) -> list[str]:
    """Archive each (fetched at, text) of ``document`` and run the diff function on it; the version keys."""
    archive, keys = Archive(stack.bucket), []
    for moment, text in versions:
        metadata = {"fetched-at": moment, "source-url": f"https://x.test/{document}", "document-type": document_type}
        keys.append(archive.put_version(document, datetime.fromisoformat(moment), text, metadata))
        diff_handler.handler(s3_event(stack.bucket, keys[-1]), context)
    return keys


def record(stack, version_key: str) -> dict:
    key = version_key.replace("versions/", "changes/", 1).removesuffix(".md") + ".json"
    return json.loads(stack.s3.get_object(Bucket=stack.bucket, Key=key)["Body"].read())


def test_a_substantive_change_under_the_same_date_is_flagged_everywhere_it_goes(stack, context):
    """ChatGPT's privacy policy, 2025-07-31: a section on training added, "Updated: November 4, 2024" kept."""
    _, key = diff(
        stack,
        context,
        "openai/privacy-policy",
        "Privacy Policy",
        [("2025-05-21T12:00:00+00:00", history_version(CHATGPT, 12)), ("2025-07-31T12:06:59+00:00", history_version(CHATGPT, 13))],
    )  # fmt: skip
    expected = {"flag": "unchanged-date", "label": "Updated", "before": "2024-11-04", "after": "2024-11-04"}
    change = record(stack, key)
    assert change["kind"] == "substantive" and change["dating"] == expected
    [event] = stack.published_changes()
    assert event["body"]["dating"] == expected  # webhooks receive the event as it is
    site = SiteIndex("site")
    item = site.get(doc_pk("openai", "privacy-policy"), "c#2025-07-31T120659.000Z")
    assert item is not None and item["dating"] == expected
    [feed, *_] = feed_keys(item)
    assert site.get(feed, "2025-07-31T120659.000Z#openai/privacy-policy")["dating"] == expected  # type: ignore[index]


def test_a_date_moved_alone_is_flagged_in_the_record_and_never_published(stack, context):
    """Midjourney's terms, 2026-05-18: "Version Effective Date" June 23, 2025 -> February 12, 2026."""
    _, key = diff(
        stack,
        context,
        "midjourney/terms-of-service",
        "Terms of Service",
        [("2026-02-03T07:00:00+00:00", history_version(MIDJOURNEY, 19)), ("2026-05-18T07:07:23+00:00", history_version(MIDJOURNEY, 20))],
    )  # fmt: skip
    change = record(stack, key)
    assert change["kind"] == "date-only" and change["alert"] is False
    assert change["dating"] == {
        "flag": "date-only",
        "label": "Version Effective Date",
        "before": "2025-06-23",
        "after": "2026-02-12",
    }
    assert stack.published_changes() == []
    item = SiteIndex("site").get(doc_pk("midjourney", "terms-of-service"), "c#2026-05-18T070723.000Z")
    assert item is not None and item["dating"]["flag"] == "date-only"


def test_a_record_archived_before_the_field_rebuilds_without_it(stack, context):
    """Readers take an absent ``dating`` as unknown: the read model does not invent one."""
    _, key = diff(
        stack,
        context,
        "midjourney/terms-of-service",
        "Terms of Service",
        [("2026-02-03T07:00:00+00:00", history_version(MIDJOURNEY, 19)), ("2026-05-18T07:07:23+00:00", history_version(MIDJOURNEY, 20))],
    )  # fmt: skip
    old = {name: value for name, value in record(stack, key).items() if name != "dating"}
    change_key = key.replace("versions/", "changes/", 1).removesuffix(".md") + ".json"
    stack.s3.put_object(Bucket=stack.bucket, Key=change_key, Body=json.dumps(old).encode())
    site = SiteIndex("site")
    rebuild(Archive(stack.bucket), site, "midjourney/terms-of-service", platform_name="Midjourney")
    item = site.get(doc_pk("midjourney", "terms-of-service"), "c#2026-05-18T070723.000Z")
    assert item is not None and item["kind"] == "date-only" and "dating" not in item
