"""``hot forget`` and ``hot migrate``: personal data from the command line."""

from __future__ import annotations

import asyncio
import getpass
import sys
from uuid import UUID

import click

from hot.domain import DomainError
from hot.infra.bootstrap import bootstrap
from hot.infra.migrate import migrate as run_migration
from hot.infra.migrate import pending
from hot.infra.settings import Settings


@click.command()
@click.argument("human_id", type=click.UUID)
@click.option(
    "--by", default=None, help="Who asks (recorded in HUMAN_FORGOTTEN); default: cli:<user>."
)
def forget(human_id: UUID, by: str | None) -> None:
    """Forget a human: destroy their personal data for good, keep the facts."""
    hot = bootstrap(Settings.from_env(), with_redis=False)
    try:
        result = asyncio.run(hot.app.forget(human_id, by=by or f"cli:{getpass.getuser()}"))
    except DomainError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    finally:
        hot.close()
    click.echo(f"forgotten: {result.id} (version {result.version}, position {result.position})")


@click.command()
def migrate() -> None:
    """Seal personal data stored in clear before encryption existed (resumable)."""
    hot = bootstrap(Settings.from_env(), with_redis=False)
    try:
        total = pending(hot.app)
        if total == 0:
            click.echo("nothing to migrate: all personal data is sealed")
            return
        with click.progressbar(length=total, label="sealing personal data", file=sys.stderr) as bar:
            report = run_migration(hot.app, bar.update)
    finally:
        hot.close()
    click.echo(
        f"sealed {report.events_sealed} events and {report.snapshots_sealed} snapshots; "
        f"re-keyed {report.claims_rekeyed} email claims"
    )
