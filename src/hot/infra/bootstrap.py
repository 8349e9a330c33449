"""The composition root: builds HoT's parts once, from settings; tests pass their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

import redis

from hot.application import CATALOG, HumansApplication
from hot.infra.database import eventsourcing_env, schema_lock
from hot.infra.embedded import EmbeddedPostgres, EmbeddedRedis
from hot.infra.log_pages import LogPages
from hot.infra.personal_keys import PostgresPersonalKeys
from hot.infra.recorder import HotRecorder
from hot.infra.relay.write_through import WriteThrough
from hot.infra.settings import Settings


@dataclass
class Hot:
    """HoT's running parts, and the embedded servers it started (stopped by ``close``)."""

    settings: Settings
    database_url: str
    redis_url: str | None
    app: HumansApplication
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def redis(self) -> redis.Redis:
        """A new Redis client for the configured (or embedded) server."""
        if self.redis_url is None:
            raise RuntimeError("This HoT was built without Redis.")
        return redis.Redis.from_url(self.redis_url)

    def close(self) -> None:
        self.app.close()
        for close in reversed(self._closers):
            close()
        self._closers.clear()


def build_application(
    database_url: str,
    timezone: str = "UTC",
    *,
    group_commit: bool = True,
    seal_personal_data: bool = True,
    shows_personal: bool = True,
) -> HumansApplication:
    """The humans application on the PostgreSQL server at ``database_url``.

    ``group_commit=False`` saves each command in its own transaction, and
    ``seal_personal_data=False`` stores personal fields in clear: baselines for
    benchmarks, never for HoT itself. ``shows_personal=False``: whatever this process
    shows has personal fields masked (a relay streaming masked), so a destroyed key
    still cached changes nothing it shows, and its key store does not listen for
    forgettings (no listening thread, no connection for it).
    """
    zone = ZoneInfo(timezone)

    def today() -> date:
        return datetime.now(zone).date()

    with schema_lock(database_url):
        keys = PostgresPersonalKeys(database_url, listen=shows_personal)
        app = HumansApplication(
            env=eventsourcing_env(database_url),
            today=today,
            group_commit=group_commit,
            personal_keys=keys,
            claim_secret=keys.server_secret(),
            seal_personal_data=seal_personal_data,
        )
    app.pages = LogPages.on(app)  # its queries read the log on its own pool
    return app


def bootstrap(settings: Settings, *, with_redis: bool = True, shows_personal: bool = True) -> Hot:
    """Build HoT: external servers where configured, embedded ones otherwise.

    ``shows_personal=False`` for a process that shows personal fields masked only
    (see ``build_application``).
    """
    closers: list[Callable[[], None]] = []
    database_url = settings.database_url
    if database_url is None:
        postgres = EmbeddedPostgres(settings.data_dir)
        closers.append(postgres.stop)
        database_url = postgres.url
    redis_url = settings.redis_url
    if redis_url is None and with_redis:
        embedded_redis = EmbeddedRedis(settings.data_dir)
        closers.append(embedded_redis.stop)
        redis_url = embedded_redis.url
    app = build_application(database_url, settings.timezone, shows_personal=shows_personal)
    if redis_url is not None and settings.write_through:
        prefix, personal = settings.redis_prefix, settings.stream_personal
        closers.append(write_through(app, redis_url, prefix=prefix, personal=personal))
    return Hot(settings, database_url, redis_url, app, closers)


WRITE_THROUGH_TIMEOUT = 1.0  # seconds: a Redis slower than this is left to the relay


def write_through(
    app: HumansApplication, redis_url: str, *, prefix: str, personal: bool
) -> Callable[[], None]:
    """Have ``app``'s recorder publish what it commits to the streams under ``prefix``
    at once (see ``hot.infra.relay.write_through``); what stops it."""
    client = redis.Redis.from_url(
        redis_url,
        socket_timeout=WRITE_THROUGH_TIMEOUT,
        socket_connect_timeout=WRITE_THROUGH_TIMEOUT,
    )
    publish = WriteThrough(app, client, prefix=prefix, personal=personal, busy=app.commands_waiting)
    recorder = cast(HotRecorder, app.recorder)
    recorder.tell_commits(publish, CATALOG.names)  # the events the streams carry

    def close() -> None:
        recorder.tell_commits(None)
        publish.close()
        client.close()

    return close
