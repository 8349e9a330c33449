"""The composition root: builds HoT's parts once, from settings; tests pass their own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

import redis

from hot.application import HumansApplication
from hot.infra.commit_listener import CommitListener
from hot.infra.database import eventsourcing_env, schema_lock
from hot.infra.embedded import EmbeddedPostgres, EmbeddedRedis
from hot.infra.log_pages import LogPages
from hot.infra.personal_keys import PostgresPersonalKeyStore
from hot.infra.recorder import HotRecorder
from hot.infra.relay.write_through import WriteThrough
from hot.infra.settings import Settings
from hot.tuning import DEADLINE_SECONDS, MAX_BATCH, WRITE_THROUGH_TIMEOUT_SECONDS


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
    max_batch: int = MAX_BATCH,
    seal_personal_data: bool = True,
    shows_personal: bool = True,
    deadline: float = DEADLINE_SECONDS,
) -> HumansApplication:
    """The humans application on the PostgreSQL server at ``database_url``.

    ``max_batch=1`` saves each command in its own transaction, and
    ``seal_personal_data=False`` stores personal fields in clear: baselines for
    benchmarks, never for HoT itself. ``shows_personal=False``: whatever this process
    shows has personal fields masked (a relay streaming masked), so a destroyed key
    still cached changes nothing it shows, and its key store does not listen for
    forgettings (no listening thread, no connection for it). ``deadline``: seconds a use
    case may wait for PostgreSQL before it answers ``DeadlineExceededError``.
    """
    zone = ZoneInfo(timezone)

    def today() -> date:
        return datetime.now(zone).date()

    with schema_lock(database_url):
        keys = PostgresPersonalKeyStore(database_url, listen=shows_personal)
        app = HumansApplication(
            env=eventsourcing_env(database_url),
            today=today,
            max_batch=max_batch,
            personal_keys=keys,
            claim_secret=keys.server_secret(),
            seal_personal_data=seal_personal_data,
            deadline=deadline,
        )
    app.pages = LogPages.on(app)  # its queries read the log on its own pool
    return app


def bootstrap(
    settings: Settings,
    *,
    with_redis: bool = True,
    shows_personal: bool = True,
    serves_commands: bool = False,
) -> Hot:
    """Build HoT: external servers where configured, embedded ones otherwise.

    ``shows_personal=False`` for a process that shows personal fields masked only
    (see ``build_application``); ``serves_commands`` for a process that takes commands
    and reads of current state (``hot serve``): its known state follows the log, and
    it publishes what it commits to the streams at once (``HOT_STREAM_WRITE_THROUGH``).
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
    if serves_commands:
        closers.append(follow_commits(app, database_url))
        if redis_url is not None and settings.write_through:
            prefix, personal = settings.redis_prefix, settings.stream_personal
            closers.append(write_through(app, redis_url, prefix=prefix, personal=personal))
    return Hot(settings, database_url, redis_url, app, closers)


def follow_commits(app: HumansApplication, database_url: str) -> Callable[[], None]:
    """Keep ``app``'s known state up with every process's commits (see
    ``hot.infra.commit_listener``); what stops it."""
    recorder = cast(HotRecorder, app.recorder)
    pages = cast(LogPages, app.pages)
    listener = CommitListener(
        database_url, recorder.channel_name, app.known, pages.rows, pages.rows_at, app.head_now
    ).start()
    return listener.close


def write_through(
    app: HumansApplication, redis_url: str, *, prefix: str, personal: bool
) -> Callable[[], None]:
    """Have ``app`` publish what it commits to the streams under ``prefix`` at once (see
    ``hot.infra.relay.write_through``); what stops it."""
    client = redis.Redis.from_url(
        redis_url,
        socket_timeout=WRITE_THROUGH_TIMEOUT_SECONDS,
        socket_connect_timeout=WRITE_THROUGH_TIMEOUT_SECONDS,
    )
    publish = WriteThrough(client, prefix=prefix, personal=personal)
    stop_telling = app.tell_commits(publish)

    def close() -> None:
        stop_telling()
        publish.close()
        client.close()

    return close
