"""A feed on HoT as configured by its settings: what HoT's own commands follow.

With a database URL (given, or ``HOT_DATABASE_URL``) the feed reads that database
and the Redis of ``HOT_REDIS_URL`` if set (the log alone otherwise). With neither,
HoT runs embedded: the composition root attaches to (or starts) the embedded
PostgreSQL and Valkey under ``HOT_DATA_DIR``, as ``hot serve`` does.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from hot.infra.postgres_log import PostgresLog
from hot.infra.settings import Settings
from hot_follow import Feed
from hot_follow.redis_client import redis_client


@contextlib.contextmanager
def configured_feed(
    settings: Settings, database_url: str | None = None
) -> Iterator[tuple[Feed, str]]:
    """A feed and the URL of HoT's database; everything it opened is closed afterwards."""
    url = database_url or settings.database_url
    if url is not None:
        client = None
        if settings.redis_url:
            client = redis_client(settings.redis_url, cluster=settings.redis_cluster)
        feed = Feed(PostgresLog.connect(url), client, settings.redis_prefix)
        try:
            yield feed, url
        finally:
            feed.close()
        return
    from hot.infra.bootstrap import bootstrap  # embedded servers: only this path needs them

    hot = bootstrap(settings)
    log = PostgresLog(hot.app)
    try:
        yield Feed(log, hot.redis, settings.redis_prefix), hot.database_url
    finally:
        log.close()
        hot.close()  # and its Redis client, which the feed borrowed
