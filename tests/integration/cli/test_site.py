"""`policywatch site rebuild` against moto: the read model written again from the archive."""

from __future__ import annotations

import boto3

from devstack.tables import create_tables
from policywatch.storage.site import SiteIndex
from policywatch_cli.main import main
from tests.helpers.aws import BUCKET, REGION
from tests.helpers.site import CHATGPT, CLAUDE, load_history
from tests.integration.cli.conftest import create_stack


def _items(table: str) -> dict[tuple[str, str], str]:
    pages = boto3.client("dynamodb", region_name=REGION).get_paginator("scan").paginate(TableName=table)
    return {(i["pk"]["S"], i["sk"]["S"]): i["data"]["S"] for page in pages for i in page["Items"]}


def test_a_rebuild_writes_what_the_diff_stage_wrote(stack, capsys):
    load_history(CLAUDE, stack.change_topic_arn, last=4)
    load_history(CHATGPT, stack.change_topic_arn, last=3)
    written = _items("site")
    assert any(pk == "feed#all" for pk, _ in written)  # the histories hold alerting changes

    # A stack upgraded to the site: its archive is full, its read model empty.
    boto3.client("dynamodb", region_name=REGION).delete_table(TableName="site")
    create_tables(boto3.client("dynamodb", region_name=REGION), {"SiteTable": "site"})
    create_stack("policywatch", {"ArchiveBucketName": BUCKET, "SiteTableName": "site"})

    assert main(["site", "rebuild"]) == 0
    out = capsys.readouterr().out
    assert "anthropic/privacy-policy" in out and "4 version(s)" in out
    assert "rebuilt 2 document(s), 7 version(s)" in out
    assert _items("site") == written

    # Twice, or one document again: the same items.
    assert main(["site", "rebuild", "openai/privacy-policy"]) == 0
    assert _items("site") == written
    assert SiteIndex("site").get("doc#openai/privacy-policy", "profile") is not None


def test_a_document_with_no_archived_versions_is_named_in_one_line_and_nothing_is_written(stack, capsys):
    load_history(CHATGPT, stack.change_topic_arn, last=2)
    create_stack("policywatch", {"ArchiveBucketName": BUCKET, "SiteTableName": "site"})
    before = _items("site")
    assert main(["site", "rebuild", "openai/privacy-policy", "openai/no-such-policy"]) != 0
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "policywatch: error: no archived versions of openai/no-such-policy (keys look like anthropic/privacy-policy)"
    ]
    assert _items("site") == before
