"""`policywatch redrive diff`: run again what failed every attempt and waits in a dead-letter queue."""

from __future__ import annotations

import argparse
import json

from policywatch.storage import clients as aws
from policywatch_cli.stack import CliError, Commands, Out, Stack


def register(commands: Commands) -> None:
    redrive = commands.add_parser("redrive", help="run again what failed every attempt").add_subparsers(
        dest="what", required=True
    )
    redrive.add_parser("diff", help="the diffs of new versions kept in the diff DLQ").set_defaults(run=cmd_redrive_diff)


def cmd_redrive_diff(args: argparse.Namespace, out: Out) -> None:
    """Run the diff again on the new versions whose diff failed every attempt (the diff DLQ)."""
    stack = Stack(args.stack)
    queue_url = stack.output("DiffDeadLetterQueueUrl")
    sqs = aws.client("sqs")
    redriven = failed = 0
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1).get(
            "Messages", []
        )
        if not messages:
            break
        for message in messages:
            try:
                event = json.loads(message["Body"])
                stack.invoke("DiffFunctionName", event)
            except (CliError, json.JSONDecodeError) as exc:
                failed += 1  # left on the queue (visible again after its timeout) for another try
                out(f"still failing: {str(exc).splitlines()[0][:200]}")
                continue
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
            redriven += 1
    out(f"redriven {redriven} failed diff(s); {failed} still failing")
    if failed:
        raise CliError(f"{failed} diff(s) still fail: see the diff function's logs")
