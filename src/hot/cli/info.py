"""``hot info``: where this HoT is, as a follower needs it: its database, its Redis and
its streams (the embedded servers' URLs included, which are not configured anywhere)."""

from __future__ import annotations

import click

from hot.infra.embedded import EmbeddedPostgres, running_url
from hot.infra.relay.streams import StreamKeys
from hot.infra.settings import Settings


@click.command()
def info() -> None:
    """Print the database and Redis URLs, and the streams' names, that followers use."""
    settings = Settings.from_env()
    if settings.database_url:
        database = settings.database_url
    else:
        postgres = EmbeddedPostgres(settings.data_dir)  # its URL is its socket directory
        database = f"{postgres.url}  (embedded, in {settings.data_dir}/postgres)"
    if settings.redis_url:
        redis_at = settings.redis_url
    else:
        running = running_url(settings.data_dir)
        redis_at = (
            f"{running}  (embedded, in {settings.data_dir}/valkey)"
            if running
            else "embedded Valkey, not running now (hot serve or hot relay starts it)"
        )
    streams = StreamKeys(settings.redis_prefix, ())
    click.echo(f"database  {database}")
    click.echo(f"redis     {redis_at}")
    click.echo(f"streams   {streams.all} (every event), {streams.of('<EVENT_NAME>')} (one name)")
