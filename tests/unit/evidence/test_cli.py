"""`policywatch checkpoint`: the function invoked now, and where its checkpoint can be fetched."""

from __future__ import annotations

from policywatch_cli import evidence
from policywatch_cli.main import main

OUTPUTS = {"ArchiveBucketName": "pw-archive", "PublicBaseUrl": "https://policywatch.example/"}


def test_checkpoint_invokes_the_function_and_says_where_it_is(monkeypatch, capsys):
    invoked = []

    def invoke(self, output_key, payload=None):
        invoked.append((output_key, payload))
        return {
            "at": "2026-12-02T15:00:00Z",
            "chains": 150,
            "checkpoint": "checkpoints/2026-12-02T150000.000Z.json",
            "signature": "checkpoints/2026-12-02T150000.000Z.sig",
        }

    monkeypatch.setattr(evidence.Stack, "invoke", invoke)
    monkeypatch.setattr(evidence.Stack, "output", lambda self, key: OUTPUTS[key])
    assert main(["checkpoint"]) == 0
    assert invoked == [("CheckpointFunctionName", None)]
    assert capsys.readouterr().out == (
        "checkpoint of 150 chain(s) signed at 2026-12-02T15:00:00Z\n"
        "  archive:  s3://pw-archive/checkpoints/2026-12-02T150000.000Z.json and 2026-12-02T150000.000Z.sig\n"
        "  site:     https://policywatch.example/evidence/checkpoints/2026-12-02T150000.000Z.json and .sig\n"
        "  latest:   https://policywatch.example/evidence/checkpoints/latest.json and .sig\n"
        "  key:      https://policywatch.example/evidence/public-key.pem\n"
    )
