"""`hot` imports a subcommand only when it is called, so that a small command starts fast."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from hot.cli import SUBCOMMANDS, main

PROBE = """
import sys
from click.testing import CliRunner
from hot.cli import main
result = CliRunner().invoke(main, ["keys", "--help"])
assert result.exit_code == 0, result.output
heavy = ("litestar", "uvicorn", "hot.follow", "hot.cli.serve")
print(",".join(m for m in heavy if m in sys.modules))
"""


def test_a_subcommand_does_not_import_the_others() -> None:
    probe = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, timeout=120, check=True
    )

    assert probe.stdout.strip() == ""


def test_help_lists_every_subcommand_with_its_summary() -> None:
    result = CliRunner().invoke(main, ["--help"])

    assert result.exit_code == 0
    for name in SUBCOMMANDS:
        assert f"  {name} " in result.output


def test_an_unknown_subcommand_is_refused() -> None:
    result = CliRunner().invoke(main, ["relays"])

    assert result.exit_code == 2
    assert "No such command 'relays'" in result.output
