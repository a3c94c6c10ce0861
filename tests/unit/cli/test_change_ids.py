"""A change is named by its id or by its change page's address, wherever an operator meets it:
`policywatch deliveries` takes either, MiniStack's outbox lists an alert's id, and `digest --this-week`
sends the week so far. No AWS here (tests/integration/cli/test_change_ids.py reads a stack)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from devstack import outbox
from policywatch.core.links import Links
from policywatch.messages.render import pro_path
from policywatch_cli import deliveries
from policywatch_cli.deliveries import record_key
from policywatch_cli.main import main
from policywatch_cli.stack import CliError

STAMP = "2025-08-29T003202.123Z"
KEY = f"changes/anthropic/privacy-policy/{STAMP}.json"


@pytest.mark.parametrize(
    "address",
    [
        f"http://127.0.0.1:8767/changes/anthropic/privacy-policy/{STAMP}",
        f"https://policywatch.example/changes/anthropic/privacy-policy/{STAMP}?utm_source=alert#evidence-title",
        f"http://127.0.0.1:8767/pro/changes/anthropic/privacy-policy/{STAMP}?s=sub_0123456789abcdef&e=1&sig=x",
        f"/changes/anthropic/privacy-policy/{STAMP}",
        Links("https://policywatch.example/").change(KEY),  # as alerts and the site write them
        "https://policywatch.example/" + str(pro_path({"record_key": KEY})),
    ],
)
def test_a_change_pages_address_names_its_record(address):
    assert record_key(address) == KEY


@pytest.mark.parametrize("change", ["656bb2048af0581b2c7b637b", "chg-1", "digest-2025-W35"])
def test_a_bare_change_id_is_taken_as_it_is(change):
    assert record_key(change) is None


@pytest.mark.parametrize(
    "address",
    [
        "http://127.0.0.1:8767/",
        "http://127.0.0.1:8767/platforms/anthropic",
        "http://127.0.0.1:8767/documents/anthropic/privacy-policy",
        f"http://127.0.0.1:8767/documents/anthropic/privacy-policy/versions/{STAMP}",
        f"http://127.0.0.1:8767/versions/anthropic/privacy-policy/{STAMP}.md",
        "http://127.0.0.1:8767/changes/anthropic/privacy-policy/yesterday",
        f"http://127.0.0.1:8767/changes/anthropic/{STAMP}",
        f"http://127.0.0.1:8767/changes/anthropic/privacy-policy/{STAMP}/",
        f"http://127.0.0.1:8767/api/v1/changes/anthropic/privacy-policy/{STAMP}",
        f"http://127.0.0.1:8767/pro/pro/changes/anthropic/privacy-policy/{STAMP}",
    ],
)
def test_any_other_address_is_one_line_naming_it(address):
    with pytest.raises(CliError) as refused:
        record_key(address)
    message = str(refused.value)
    assert message == (
        f"{address} is not a change page's address nor a change id "
        "(pages look like http://127.0.0.1:8767/changes/anthropic/privacy-policy/2025-08-29T003202.123Z)"
    )


def test_deliveries_refuses_an_address_before_asking_any_stack(monkeypatch, capsys):
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # never reached: the address is read first
    assert main(["deliveries", "http://127.0.0.1:8767/platforms/anthropic"]) == 1
    assert capsys.readouterr().err == (
        "policywatch: error: http://127.0.0.1:8767/platforms/anthropic is not a change page's address nor a change "
        "id (pages look like http://127.0.0.1:8767/changes/anthropic/privacy-policy/2025-08-29T003202.123Z)\n"
    )


# --- MiniStack's outbox ----------------------------------------------------------------------


def test_the_outbox_lists_each_alerts_change_id(monkeypatch, capsys):
    alert = "Severity:     HIGH\nThe change:   http://127.0.0.1:8767/changes/a/b/c\nChange id:    656bb2048af0581b2c7b637b\n"
    emails = [
        {"To": ["a@example.com"], "Subject": "[policywatch] HIGH Anthropic changed", "BodyText": alert},
        {"To": ["b@example.com"], "Subject": "[policywatch] Week of 25 August 2025", "BodyText": "no id here"},
    ]
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    monkeypatch.setattr(outbox, "outbox", lambda endpoint: (emails, []))
    assert outbox.main([]) == 0
    assert capsys.readouterr().out == (
        "2 email(s)\n"
        "  to a@example.com: [policywatch] HIGH Anthropic changed\n"
        "    change 656bb2048af0581b2c7b637b\n"
        "  to b@example.com: [policywatch] Week of 25 August 2025\n"
        "0 SMS\n"
    )
    assert outbox.main(["--json"]) == 0
    assert '"change_id": "656bb2048af0581b2c7b637b"' in capsys.readouterr().out


# --- the digest, now ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "at"),
    [
        (datetime(2025, 8, 29, 14, 5, tzinfo=UTC), "2025-09-01T00:00:00Z"),  # a Friday: the Monday after
        (datetime(2025, 9, 1, 0, 0, tzinfo=UTC), "2025-09-08T00:00:00Z"),  # a Monday: the week it starts
        (datetime(2025, 9, 7, 23, 59, tzinfo=UTC), "2025-09-08T00:00:00Z"),  # a Sunday
    ],
)
def test_digest_this_week_runs_as_if_next_monday(monkeypatch, capsys, now, at):
    invoked = []

    def invoke(self, output_key, payload=None):
        invoked.append((output_key, payload))
        return {"week": "2025-W35", "changes": 1, "platforms": ["anthropic"], "fanout": "digest-2025-W35"}

    summaries = iter(
        [
            {"chains": 1, "chains_ended": 0, "pages_started": 1, "pages_done": 0},  # its page is being sent
            {"chains": 1, "chains_ended": 1, "pages_started": 1, "pages_done": 1, "watchers": 3, "sent": 1}
            | {"not_entitled": 2, "completed_at": "2025-09-01T00:00:02Z"},
        ]
    )
    monkeypatch.setattr(deliveries.clock, "now", lambda: now)
    monkeypatch.setattr(deliveries.Stack, "invoke", invoke)
    monkeypatch.setattr(deliveries.Stack, "output", lambda self, key: "deliveries")
    monkeypatch.setattr(deliveries.FanOuts, "summary", lambda self, fanout_id: next(summaries))
    monkeypatch.setattr(deliveries.time, "sleep", lambda seconds: None)
    assert main(["digest", "--this-week"]) == 0
    assert invoked == [("DigestFunctionName", {"time": at})]
    assert capsys.readouterr().out == (
        "digest of week 2025-W35: 1 change(s), 1 platform(s) with something to list\n"
        "fan-out complete at 2025-09-01T00:00:02Z: 1 page; 3 subscribers read, 1 sent, 2 not entitled\n"
    )


def test_digest_takes_this_week_or_a_time_not_both(capsys):
    with pytest.raises(SystemExit):
        main(["digest", "--this-week", "--at", "2025-09-01T08:00:00Z"])
    assert "not allowed with argument" in capsys.readouterr().err
