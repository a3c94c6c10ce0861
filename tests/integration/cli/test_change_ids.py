"""One change's id wherever an operator meets it, on a real history diffed into moto: its change page
shows it, `policywatch status` lists it, and `policywatch deliveries` finds its deliveries by the id or
by the page's address (the Professional view's too)."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime

import pytest
from bs4 import BeautifulSoup

from functions.web import web_handler
from policywatch.storage.archive import Archive, parse_key
from policywatch.storage.deliveries import Deliveries, DeliveryKey
from policywatch.storage.documents import DocumentState, DocumentStates
from policywatch_cli.main import main
from tests.helpers.aws import BUCKET
from tests.helpers.events import LambdaContext
from tests.helpers.paths import EVENTS
from tests.helpers.site import CLAUDE, load_history
from tests.integration.cli.conftest import create_stack

pytestmark = pytest.mark.filterwarnings("ignore:Tried to parse AWS:UserWarning")
SITE = "http://127.0.0.1:8767"


@pytest.fixture
def change(stack) -> dict[str, str]:
    """Claude's privacy policy, two versions: one change. Its id, page path and record key."""
    first, second = load_history(CLAUDE, stack.change_topic_arn, last=2)
    _, platform, document, stamp = parse_key(second)
    key = f"changes/{platform}/{document}/{stamp}.json"
    change_id = json.loads(Archive(BUCKET).get(key))["change_id"]
    create_stack(
        "policywatch",
        {"ArchiveBucketName": BUCKET, "DeliveriesTableName": "deliveries", "DocumentsTableName": "documents"},
    )
    states = DocumentStates("documents")
    states.put(
        DocumentState("anthropic/privacy-policy", last_version_key=second, last_change_at="2025-08-29T00:32:02Z")
    )
    states.put(DocumentState("openai/privacy-policy", last_version_key=first.replace("anthropic", "openai")))
    return {"id": change_id, "path": f"/changes/{platform}/{document}/{stamp}", "key": key}


def test_the_change_page_shows_its_id_in_the_evidence(change):
    event = copy.deepcopy(json.loads((EVENTS / "web.json").read_text()))
    event["rawPath"] = event["requestContext"]["http"]["path"] = change["path"]
    event["requestContext"]["http"]["method"] = "GET"
    event.update(queryStringParameters=None, rawQueryString="", headers={"host": "policywatch.test"}, body="")
    response = web_handler.handler(event, LambdaContext())
    assert response["statusCode"] == 200
    soup = BeautifulSoup(response["body"], "html.parser")
    evidence = soup.find("section", attrs={"aria-labelledby": "evidence-title"})
    shown = evidence.find(id="change-id")
    assert shown.find("code").get_text() == change["id"]
    assert " ".join(shown.get_text(" ").split()).startswith(f"Change id: {change['id']}")


def test_status_lists_each_documents_last_change_id(change, capsys):
    assert main(["status"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "CHANGE ID" in lines[1]
    [claude] = [line for line in lines if line.startswith("anthropic/privacy-policy ")]
    assert f" {change['id']} " in f"{claude} "
    [first_version] = [line for line in lines if line.startswith("openai/privacy-policy ")]  # no change record
    assert change["id"] not in first_version
    assert main(["status", "--json"]) == 0
    rows = {row["document"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["anthropic/privacy-policy"]["last_change_id"] == change["id"]
    assert rows["openai/privacy-policy"]["last_change_id"] is None
    assert rows["mistral/privacy-policy"]["last_change_id"] is None  # never fetched


def test_deliveries_by_id_or_by_the_change_pages_address(change, capsys):
    deliveries = Deliveries("deliveries")
    key = DeliveryKey(change["id"], "sub_0123456789abcdef", "email")
    deliveries.claim(key)
    deliveries.sent(key, "ses-0001", "accepted by SES")

    assert main(["deliveries", change["id"]]) == 0
    by_id = capsys.readouterr().out
    assert "sub_0123456789abcdef email" in by_id and by_id.endswith("1 delivery: 1 sent\n")
    for address in (
        SITE + change["path"],
        f"{SITE}/pro{change['path']}?s=sub_0123456789abcdef&e=1767225600&sig=abc",
        change["path"],
    ):
        assert main(["deliveries", address]) == 0
        assert capsys.readouterr().out == f"change {change['id']}\n" + by_id, address


def test_an_address_with_no_change_recorded_is_one_line(change, capsys):
    stamp = datetime(2020, 1, 1, tzinfo=UTC).strftime("%Y-%m-%dT%H%M%S.000Z")
    address = f"{SITE}/changes/anthropic/privacy-policy/{stamp}"
    assert main(["deliveries", address]) == 1
    assert capsys.readouterr().err == (
        f"policywatch: error: no change recorded at {address} "
        f"(the archive has no changes/anthropic/privacy-policy/{stamp}.json)\n"
    )
