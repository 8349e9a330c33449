"""``hot status``: one screen of how this HoT stands, for an operator.

The servers (embedded or external, their URLs with any password hidden), the log's
head, the relay (position, lag, leader) and every stream (first and last entry,
length), ``hot_read``'s projector (position, lag), every projection whose position is
kept in HoT's database (position, lag, where it is stuck), and the number of API keys.
What ``hot relay status`` and ``hot info`` compute, it asks them for.
"""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit

import click

from hot.cli.info import servers
from hot.cli.relay import echo_streams, inspect_all
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import bootstrap
from hot.infra.projections_status import ProjectionReport, inspect_projections
from hot.infra.relay.source import EventLog
from hot.infra.settings import Settings


def without_password(url: str) -> str:
    """``url`` with its password, if any, shown as ``***``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


@click.command()
def status() -> None:
    """One screen: servers, log head, relay, streams, hot_read, projections, API keys."""
    settings = Settings.from_env()
    hot = bootstrap(settings, shows_personal=False)  # starts the embedded ones if need be
    try:
        found = servers(settings)
        report, sql_read = inspect_all(hot)
        projections = inspect_projections(EventLog(hot.app), hot.database_url)
        with ApiKeyStore(hot.database_url) as api_keys:
            keys = len(api_keys.list_keys())
    finally:
        hot.close()
    embedded = {True: "embedded", False: "external"}
    click.echo(
        f"database:     {embedded[found.database_embedded]}, {without_password(hot.database_url)}"
    )
    redis_at = without_password(hot.redis_url) if hot.redis_url else "none"
    click.echo(f"redis:        {embedded[found.redis_embedded]}, {redis_at}")
    echo_streams(report, sql_read)
    echo_projections(projections)
    click.echo(f"API keys:     {keys}")


def echo_projections(projections: list[ProjectionReport]) -> None:
    """One line a projection: position, lag, and where it is stuck if it is."""
    if not projections:
        click.echo("projections:  none keeps its position in this database")
    for each in projections:
        line = f"projection:   {each.name}: position {each.position}, lag {each.lag} event(s)"
        if each.stuck is not None:
            stuck = each.stuck
            line += (
                f", STUCK at {stuck.position} ({stuck.event_name}) "
                f"since {stuck.since.isoformat(timespec='seconds')}: {stuck.error}"
            )
        click.echo(line)
