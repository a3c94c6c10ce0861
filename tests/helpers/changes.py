"""Archived versions and the change they make: Claude.ai's 2025-08-29 training change, diffed and published."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from functions.diff import diff_handler
from policywatch.fetch.extraction.html import fingerprint
from policywatch.storage.archive import sha256, stamp
from tests.helpers.corpus import claude_text
from tests.helpers.events import s3_event

T0 = datetime.now(UTC) - timedelta(days=1)  # recent: the digest looks back a week


def put_version(stack, text: str, when: datetime, platform: str = "anthropic") -> str:
    """Archive ``text`` as ``platform``'s privacy policy version fetched at ``when``, as the fetch stage does
    (Claude.ai's unless told)."""
    key = f"versions/{platform}/privacy-policy/{stamp(when)}.md"
    body = text.encode()
    stack.s3.put_object(
        Bucket=stack.bucket,
        Key=key,
        Body=body,
        Metadata={
            "sha256": sha256(body),
            "fingerprint": fingerprint(text),
            "fetched-at": when.isoformat(),
            "source-url": "https://www.anthropic.com/legal/privacy",
            "document-type": "Privacy Policy",
        },
    )
    return key


def training_change(stack, context, when: datetime | None = None) -> dict:
    """The 2025-08-29 training change, diffed and published; returns the published event and attributes."""
    when = when or T0
    put_version(stack, claude_text("2025-08-28"), when)
    key = put_version(stack, claude_text("2025-08-29"), when + timedelta(hours=12))
    diff_handler.handler(s3_event(stack.bucket, key), context)
    published = stack.published_changes()
    assert len(published) == 1
    return published[0]
