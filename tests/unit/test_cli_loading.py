"""`hot` imports a subcommand only when it is called, so that a small command starts fast,
and ``hot --help`` imports none (listing them once took seconds)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
from click.testing import CliRunner

from hot.cli import SUBCOMMANDS, SUMMARIES, main

PROBE = """
import sys
from click.testing import CliRunner
from hot.cli import main
heavy, args = sys.argv[1].split(","), sys.argv[2:]
result = CliRunner().invoke(main, args)
assert result.exit_code == 0, result.output
print(",".join(m for m in heavy if m in sys.modules))
"""


@pytest.mark.parametrize(
    ("args", "not_imported"),
    [
        (["keys", "--help"], ["litestar", "uvicorn", "hot_follow.follower", "hot.cli.serve"]),
        (["--help"], ["litestar", "uvicorn", "eventsourcing", "hot_follow.follower", "hot.infra"]),
    ],
)
def test_help_imports_only_what_it_shows(args: list[str], not_imported: list[str]) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE, ",".join(not_imported), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )

    assert probe.stdout.strip() == ""


def test_help_lists_every_subcommand_with_its_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert f"  {name} " in result.output


def test_each_summary_is_what_the_subcommand_itself_says() -> None:
    ctx = click.Context(main)

    assert set(SUMMARIES) == set(SUBCOMMANDS)
    for name, summary in SUMMARIES.items():
        command = main.get_command(ctx, name)
        assert command is not None
        assert command.get_short_help_str(limit=200) == summary, name


def test_an_unknown_subcommand_is_refused() -> None:
    result = CliRunner().invoke(main, ["relays"])

    assert result.exit_code == 2
    assert "No such command 'relays'" in result.output
