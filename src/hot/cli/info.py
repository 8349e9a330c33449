"""``hot info``: where this HoT is, as a follower needs it: its database, its Redis and
its streams (the embedded servers' URLs included, which are not configured anywhere)."""

from __future__ import annotations

from dataclasses import dataclass

import click

from hot.infra.embedded import EmbeddedPostgres, running_url
from hot.infra.settings import Settings
from hot_follow.streams import StreamKeys


@dataclass(frozen=True)
class Servers:
    """Where this HoT's servers are: each URL, and whether HoT runs it (embedded)."""

    database: str
    database_embedded: bool
    redis: str | None  # None: embedded and not running now
    redis_embedded: bool


def servers(settings: Settings) -> Servers:
    """The servers of ``settings``: configured, or the embedded ones' (asked, not started)."""
    database = settings.database_url or EmbeddedPostgres(settings.data_dir).url
    redis_at = settings.redis_url or running_url(settings.data_dir)
    return Servers(database, not settings.database_url, redis_at, not settings.redis_url)


@click.command()
def info() -> None:
    """Print the database and Redis URLs, and the streams' names, that followers use."""
    settings = Settings.from_env()
    found = servers(settings)
    database = found.database
    if found.database_embedded:  # its URL is its socket directory
        database += f"  (embedded, in {settings.data_dir}/postgres)"
    if found.redis is None:
        redis_at = "embedded Valkey, not running now (hot serve or hot relay starts it)"
    elif found.redis_embedded:
        redis_at = f"{found.redis}  (embedded, in {settings.data_dir}/valkey)"
    else:
        redis_at = found.redis
    streams = StreamKeys(settings.redis_prefix, ())
    click.echo(f"database  {database}")
    click.echo(f"redis     {redis_at}")
    click.echo(f"streams   {streams.all} (every event), {streams.of('<EVENT_NAME>')} (one name)")
