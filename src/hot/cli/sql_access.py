"""``hot sql-access``: create, list and revoke the login roles of SQL readers of ``hot_read``.

``create`` prints the reader's ``postgresql://`` URL, with its password, once and never
again; ``revoke`` ends the reader's sessions and drops its role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from hot.infra.bootstrap import bootstrap
from hot.infra.settings import Settings
from hot.infra.sql_read.access import (
    BadReaderNameError,
    SqlAccessError,
    checked_name,
    create_reader,
    readers,
    revoke_reader,
)


@contextmanager
def database_url() -> Iterator[str]:
    """The URL of the configured (or embedded) database, with HoT's tables made."""
    hot = bootstrap(Settings.from_env(), with_redis=False)
    try:
        yield hot.database_url
    finally:
        hot.close()


@click.group(name="sql-access")
def sql_access() -> None:
    """Manage SQL readers: login roles that may read hot_read and nothing else."""


def _reader_name(ctx: click.Context, param: click.Parameter, name: str) -> str:
    try:
        return checked_name(name)
    except BadReaderNameError as error:
        raise click.BadParameter(str(error)) from None


@sql_access.command()
@click.argument("name", callback=_reader_name)
def create(name: str) -> None:
    """Create the reader NAME and print its postgresql:// URL (its password shown only once)."""
    with database_url() as url:
        try:
            click.echo(create_reader(url, name))
        except SqlAccessError as error:
            raise click.ClickException(str(error)) from None


@sql_access.command(name="list")
def list_readers() -> None:
    """List the SQL readers of this database, with their open sessions."""
    with database_url() as url:
        for reader in readers(url):
            click.echo(f"{reader.name}\t{reader.sessions} session(s)")


@sql_access.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the reader NAME: end its sessions, drop its role."""
    with database_url() as url:
        try:
            ended = revoke_reader(url, name)
        except SqlAccessError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"revoked {name} ({ended} session(s) ended)")
