"""The `policywatch` parser as the command groups build it: every command, in the README's order, once."""

from __future__ import annotations

import argparse
import re

import pytest

from policywatch_cli.main import GROUPS, ORDER, build_parser, main

README_ORDER = [
    "catalog",
    "subscribers",
    "deliveries",
    "sweep",
    "redrive",
    "digest",
    "status",
    "reextract",
    "accept",
    "site",
    "chain",
    "checkpoint",
    "evidence",
    "verify",
    "diff",
    "replay",
    "extract",
]


def _commands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction:
    return next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    subparsers = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subparsers:
        return [(path, parser)]
    return [leaf for name, sub in subparsers[0].choices.items() for leaf in _leaves(sub, (*path, name))]


def test_help_lists_every_command_in_the_readme_order(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    listing = out.split("\n  COMMAND\n", 1)[1].split("\n\n")[0]
    listed = re.findall(r"^    (\S+)", listing, re.MULTILINE)  # help that wraps is indented further
    assert listed == README_ORDER == list(ORDER)
    assert "outbox" not in out  # MiniStack's outbox is devstack's: python -m devstack.outbox


def test_an_unknown_command_names_the_commands_in_the_same_order(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["outbox"])
    assert exit_.value.code == 2
    assert f"(choose from {', '.join(repr(c) for c in README_ORDER)})" in capsys.readouterr().err


def test_every_command_runs_something_and_comes_from_one_group():
    leaves = _leaves(build_parser())
    assert {path[0] for path, _ in leaves} == set(ORDER)
    for path, parser in leaves:
        run = parser.get_default("run")
        assert callable(run), path
    added: list[str] = []
    for group in GROUPS:
        parser = argparse.ArgumentParser()
        group.register(parser.add_subparsers())
        added += _commands(parser).choices
    assert sorted(added) == sorted(ORDER)  # each command added by exactly one group


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["catalog"],
        ["catalog", "use"],
        ["subscribers"],
        ["subscribers", "add"],
        ["redrive"],
        ["deliveries"],
        ["diff", "only-one"],
        ["replay"],
    ],
)
def test_missing_arguments_are_usage_errors(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    assert "the following arguments are required" in capsys.readouterr().err


def test_help_of_every_command(capsys):
    for path, _ in _leaves(build_parser()):
        with pytest.raises(SystemExit) as exit_:
            main([*path, "--help"])
        assert exit_.value.code == 0
        assert capsys.readouterr().out.startswith(f"usage: policywatch {' '.join(path)}")
