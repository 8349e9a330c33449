"""``hot``: the one entry point for everything HoT runs.

Subcommands are imported only when called: ``hot keys`` should not pay for importing
Litestar, uvicorn and the follower library (seconds on a busy machine).
"""

from __future__ import annotations

import importlib
import logging
import warnings

import click

# name -> "module:attribute" of each subcommand
SUBCOMMANDS = {
    "attendance": "hot.cli.attendance:attendance",
    "catalog": "hot.cli.catalog:catalog",
    "forget": "hot.cli.personal:forget",
    "keys": "hot.cli.keys:keys",
    "migrate": "hot.cli.personal:migrate",
    "relay": "hot.cli.relay:relay",
    "serve": "hot.cli.serve:serve",
    "tail": "hot.cli.tail:tail",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported the first time they are asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *SUBCOMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in SUBCOMMANDS:
            return super().get_command(ctx, cmd_name)
        module, _, attribute = SUBCOMMANDS[cmd_name].partition(":")
        command = getattr(importlib.import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{SUBCOMMANDS[cmd_name]} is not a click command")
        return command


@click.group(cls=LazyGroup)
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def main(verbose: bool) -> None:
    """HoT: the history of the humans of Trantor, as events."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not verbose:  # the embedded PostgreSQL narrates every start at INFO
        logging.getLogger("pgserver").setLevel(logging.WARNING)
    # pgserver's lock directory falls back to /tmp without XDG_RUNTIME_DIR: harmless.
    warnings.filterwarnings("ignore", module="platformdirs")
