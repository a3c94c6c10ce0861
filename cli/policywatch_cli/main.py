"""The ``policywatch`` operator command: drives a deployed stack through boto3.

It finds the stack's resources from its CloudFormation outputs (``--stack``, default
``policywatch``) at the endpoint boto3 is configured for (``AWS_ENDPOINT_URL`` for MiniStack).
Every error is one line on stderr and a non-zero exit, never a traceback.

Each command group is a module with its ``cmd_*`` functions and a ``register(commands)`` that adds
its subcommands; this one builds the parser from them and runs the command asked for.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError
from botocore.parsers import ResponseParserError

from policywatch.core.errors import InputError
from policywatch.storage.errors import StorageError
from policywatch_cli import (
    analysis,
    audit,
    catalog,
    deliveries,
    documents,
    evidence,
    extract,
    redrive,
    site,
    subscribers,
)
from policywatch_cli.stack import Commands, unreachable

GROUPS = (catalog, subscribers, deliveries, documents, redrive, site, evidence, audit, analysis, extract)

# The order `policywatch --help` lists the commands in, whichever group adds them.
ORDER = (
    "catalog", "subscribers", "deliveries", "sweep", "redrive", "digest", "status", "reextract", "accept", "site",
    "chain", "checkpoint", "evidence", "verify", "diff", "replay", "extract",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="policywatch", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--stack", default=os.environ.get("POLICYWATCH_STACK", "policywatch"), help="stack name (default: policywatch)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    _in_order(commands)
    return parser


def _in_order(commands: Commands) -> None:
    """List the commands in ORDER in the help and in the "invalid choice" message (argparse keeps both lists)."""
    rank = {name: i for i, name in enumerate(ORDER)}
    commands._choices_actions.sort(key=lambda action: rank[action.dest])
    parsers = sorted(commands.choices.items(), key=lambda item: rank[item[0]])
    commands.choices.clear()  # the same dict as the one argparse looks the command up in
    commands.choices.update(parsers)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.run(args, print)
        return 0
    except BrokenPipeError:  # `policywatch replay ... | head`
        sys.stderr.close()
        return 0
    except InputError as exc:  # what the operator got wrong
        message = str(exc)
    except StorageError as exc:  # an AWS call made through policywatch.storage
        message = aws_message(exc.__cause__) if isinstance(exc.__cause__, Exception) else str(exc)
    except (ClientError, BotoCoreError, ResponseParserError) as exc:  # one the CLI made (CloudFormation, Lambda, SQS)
        message = aws_message(exc)
    first, _, rest = message.partition("\n")
    print(f"policywatch: error: {first}", file=sys.stderr)
    for line in rest.splitlines():  # catalog errors list every problem, one per line
        print(f"  {line}", file=sys.stderr)
    return 1


def aws_message(exc: Exception) -> str:
    """One line on an AWS failure, saying what to do where there is something to do."""
    if isinstance(exc, EndpointConnectionError):
        return unreachable(exc.kwargs.get("endpoint_url", "?"))
    if isinstance(exc, NoCredentialsError):
        return "no AWS credentials (for the local stack: source .local/env)"
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"AWS refused {exc.operation_name}: {error.get('Code')}: {error.get('Message')}"
    if isinstance(exc, ResponseParserError):  # something listens at the endpoint, and it is not AWS
        where = os.environ.get("AWS_ENDPOINT_URL", "the AWS endpoint")
        return f"what answers at {where} is not AWS (its answer is no AWS response): is it MiniStack's address?"
    return f"AWS call failed: {exc}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
