"""The change page's Professional link to its audit pack: a zip that `verify` accepts."""

from __future__ import annotations

import base64
import json
from datetime import datetime, timedelta

from cryptography.hazmat.primitives.asymmetric import ec

from policywatch.core import clock
from policywatch.core.links import Links
from policywatch.evidence.verify import verify
from policywatch.storage.archive import Archive
from tests.helpers.aws import BUCKET
from tests.helpers.corpus import HISTORIES
from tests.helpers.evidence import sign_checkpoint
from tests.helpers.notify import subscribe
from tests.helpers.site import CLAUDE, archive_version
from tests.helpers.webclient import WebClient

DOC = "anthropic/privacy-policy"
HISTORY = HISTORIES / CLAUDE.folder


def archived_change(stack) -> str:
    """Two real versions of Claude.ai's privacy policy (Open Terms Archive, ODC-By 1.0), archived and
    diffed as the pipeline does (chained, recorded, in the site's read model); then a checkpoint."""
    index = json.loads((HISTORY / "index.json").read_text())["versions"]
    metadata = {"source-url": CLAUDE.url, "document-type": CLAUDE.document_type, "extractor-version": "2"}
    for entry in index[-2:]:
        moment = datetime.fromisoformat(entry["recorded_at"])
        archive_version(DOC, moment, (HISTORY / entry["file"]).read_text(), metadata, stack.change_topic_arn)
    archive = Archive(BUCKET)
    sign_checkpoint(archive, ec.generate_private_key(ec.SECP256R1()))
    return archive.keys(f"changes/{DOC}/")[-1].removeprefix("changes/").removesuffix(".json")


def pro_link(path: str) -> str:
    pat = subscribe("pat@example.com", "professional")
    expires = int((clock.now() + timedelta(days=30)).timestamp())
    return Links("https://policywatch.test").pro(path, pat.subscriber_id, pat.unsubscribe_token, expires)


def test_a_professional_downloads_a_change_pack_that_verifies(stack):
    change = archived_change(stack)
    answer = WebClient().get(pro_link(f"pro/evidence/changes/{change}.zip").removeprefix("https://policywatch.test"))
    assert answer.status == 200 and answer.headers["Content-Type"] == "application/zip"
    assert answer.headers["Cache-Control"] == "private, no-store"
    assert answer.headers["Content-Disposition"].startswith(
        'attachment; filename="policywatch-anthropic-privacy-policy-'
    )
    verified = verify(base64.b64decode(answer.body))
    assert (verified.versions, verified.changes) == (2, 1) and verified.documents[DOC] == (1, 2)


def test_without_a_valid_link_or_for_an_unknown_change_there_is_no_pack(stack):
    change = archived_change(stack)
    forged = WebClient().get(f"/pro/evidence/changes/{change}.zip?s=sub_0&e=9999999999&sig=x")
    assert forged.status == 403
    unknown = WebClient().get(pro_link("pro/evidence/changes/anthropic/privacy-policy/2020-01-01T000000.000Z.zip")
                              .removeprefix("https://policywatch.test"))  # fmt: skip
    assert unknown.status == 404 and "no change recorded" in unknown.text


def test_the_professional_change_page_links_to_its_pack(stack):
    change = archived_change(stack)
    page = WebClient().get(pro_link(f"pro/changes/{change}").removeprefix("https://policywatch.test"))
    assert page.status == 200 and f"/pro/evidence/changes/{change}.zip?s=" in page.body
    public = WebClient().get(f"/changes/{change}")
    assert public.status == 200 and "/pro/evidence/" not in public.body  # the public page has no pack link
