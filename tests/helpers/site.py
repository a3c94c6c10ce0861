"""Real policy histories loaded into the moto stack by the pipeline's own archive and diff code.

The versions are Open Terms Archive's (../shared/corpus/histories, ODC-By 1.0); each is archived
as the fetch stage archives a version and diffed by ``process_version``, which writes the change
records and the site's read model exactly as the diff function does.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from policywatch.analysis.changes import process_version
from policywatch.storage.archive import Archive
from policywatch.storage.site import SiteIndex
from policywatch.storage.topics import Topic
from tests.helpers.aws import BUCKET
from tests.helpers.corpus import HISTORIES


@dataclass(frozen=True)
class History:
    folder: str  # in ../shared/corpus/histories
    platform: str
    document: str
    document_type: str
    url: str


CLAUDE = History(
    "claude-ai-privacy-policy",
    "anthropic",
    "privacy-policy",
    "Privacy Policy",
    "https://www.anthropic.com/legal/privacy",
)
CHATGPT = History(
    "chatgpt-privacy-policy",
    "openai",
    "privacy-policy",
    "Privacy Policy",
    "https://openai.com/policies/privacy-policy/",
)
MIDJOURNEY = History(
    "midjourney-terms-of-service",
    "midjourney",
    "terms-of-service",
    "Terms of Service",
    "https://docs.midjourney.com/docs/terms-of-service",
)


def load_history(history: History, topic_arn: str, *, first: int = 1, last: int | None = None) -> list[str]:
    """Archive versions ``first``..``last`` of ``history`` and diff each; the version keys, oldest first."""
    index = json.loads((HISTORIES / history.folder / "index.json").read_text())
    archive, site, topic = Archive(BUCKET), SiteIndex("site"), Topic(topic_arn)
    keys = []
    for entry in index["versions"]:
        if entry["seq"] < first or (last is not None and entry["seq"] > last):
            continue
        moment = datetime.fromisoformat(entry["recorded_at"])
        text = (HISTORIES / history.folder / entry["file"]).read_text()
        key = archive.put_version(
            f"{history.platform}/{history.document}",
            moment,
            text,
            {
                "source-url": history.url,
                "fetched-at": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "document-type": history.document_type,
                "extractor-version": "2",
            },
        )
        process_version(archive, key, topic, now=moment, site=site)
        keys.append(key)
    return keys
