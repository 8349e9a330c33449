"""``hot``: the one entry point for everything HoT runs."""

from __future__ import annotations

import logging
import warnings

import click

from hot.cli.attendance import attendance
from hot.cli.catalog import catalog
from hot.cli.keys import keys
from hot.cli.personal import forget, migrate
from hot.cli.relay import relay
from hot.cli.serve import serve
from hot.cli.tail import tail


@click.group()
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


main.add_command(catalog)
main.add_command(forget)
main.add_command(migrate)
main.add_command(relay)
main.add_command(keys)
main.add_command(serve)
main.add_command(attendance)
main.add_command(tail)
