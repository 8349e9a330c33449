"""``hot``: the one entry point for everything HoT runs."""

from __future__ import annotations

import logging

import click

from hot.cli.catalog import catalog
from hot.cli.personal import forget, migrate
from hot.cli.relay import relay


@click.group()
@click.option("-v", "--verbose", is_flag=True, help="Log at debug level.")
def main(verbose: bool) -> None:
    """HoT: the history of the humans of Trantor, as events."""
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )


main.add_command(catalog)
main.add_command(forget)
main.add_command(migrate)
main.add_command(relay)
