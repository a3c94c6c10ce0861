"""`policywatch checkpoint`: sign and publish a checkpoint of every document's hash chain now."""

from __future__ import annotations

import argparse

from policywatch_cli.stack import Commands, Out, Stack


def register(commands: Commands) -> None:
    commands.add_parser("checkpoint", help="sign the heads of every document's hash chain now").set_defaults(
        run=cmd_checkpoint
    )


def cmd_checkpoint(args: argparse.Namespace, out: Out) -> None:
    """Invoke the checkpoint function (as its hourly schedule does) and say where the checkpoint is."""
    stack = Stack(args.stack)
    result = stack.invoke("CheckpointFunctionName")
    bucket, site = stack.output("ArchiveBucketName"), stack.output("PublicBaseUrl").rstrip("/")
    name = result["checkpoint"].removeprefix("checkpoints/").removesuffix(".json")
    out(f"checkpoint of {result['chains']} chain(s) signed at {result['at']}")
    out(f"  archive:  s3://{bucket}/{result['checkpoint']} and {result['signature'].rpartition('/')[2]}")
    out(f"  site:     {site}/evidence/checkpoints/{name}.json and .sig")
    out(f"  latest:   {site}/evidence/checkpoints/latest.json and .sig")
    out(f"  key:      {site}/evidence/public-key.pem")
