"""The composition root: builds HoT's parts once, from settings; tests pass their own.

Every pool and dedicated connection a HoT process holds, each closed in one place:
by its owner's ``close()``. ``Hot.close`` closes what ``bootstrap`` made (through
``app.close()``, the application's); the other owners are closed by whoever made them.

| PostgreSQL (application_name) | for                                 | owned (and closed) by   |
|-------------------------------|-------------------------------------|-------------------------|
| events pool (10 to 80)        | the log: reads, writes, relay reads | the app's datastore     |
| the writer, of the events pool| the committer's batches, unchecked  | ``HotRecorder`` (1)     |
| ``hot-personal-keys`` (1 to 4)| personal-data keys, claims' secret  | the key store (app)     |
| ``hot-personal-keys-listener``| LISTEN: destroyed keys (2)          | the key store (app)     |
| ``hot-commit-listener``       | LISTEN: every commit (``hot serve``)| ``CommitListener`` (3)  |
| ``hot-api-keys`` (1 to 2)     | tokens; ``hot keys``                | ``ApiKeyStore`` (4)     |
| ``hot-relay``                 | the relay's session lock and LISTEN | the relay (at its stop) |
| ``hot-sql-read``              | hot_read's projector: lock, LISTEN, | the projector (at its   |
|                               | its reads and writes                | stop)                   |
| ``hot-follower``              | the log for followers, live feed    | ``PostgresLog`` (5)     |
| ``hot-projection`` (1 to 4)   | a projection's tables, if in HoT's  | the projection store    |
| ``hot-replica-reads`` (1 to 16| queries and the live feed's         | ``Reads`` (3)           |
| a replica)                    | catch-up, on each replica of        |                         |
|                               | ``HOT_DATABASE_READ_URL``           |                         |

| Redis (CLIENT LIST name)      | for                                 | owned (and closed) by   |
|-------------------------------|-------------------------------------|-------------------------|
| ``hot``: ``Hot.redis``        | the relay, readiness, the live feed | ``Hot``                 |
| ``hot-write-through``         | publishing each commit at once      | ``write_through`` (3)   |

With traces on (the standard ``OTEL_*`` variables, ``hot.infra.tracing``), the SDK's
batch processor exports spans from a thread of its own, stopped (after a last export)
by the closer ``bootstrap`` keeps, the last of all.

Each Redis client is a plain one or, with ``HOT_REDIS_CLUSTER``, a Redis Cluster's (one
pool per node it meets), made by ``hot_follow.redis_client.redis_client``.

With metrics on (``HOT_METRICS``), a thread samples these pools' use and the log's head
(``hot.infra.metrics_sampler``), stopped by the closer ``bootstrap`` keeps.

(1) Held while the committer writes; given back by ``recorder.close()`` (``app.close``)
or when broken. (2) Not in a process that shows personal fields masked. (3) Closed by
the closer ``bootstrap`` keeps (``Hot.close``). (4) Made and closed by ``build_api``
(at the API's shutdown), ``hot keys`` and ``hot serve`` (its first admin token).
(5) ``build_api``'s closed at the API's shutdown.

The dedicated connections are sessions on purpose: a LISTEN and a session lock
belong to their session, which must live as long as they do; a pooled connection
would be given back, and its lock or LISTEN with it. A few short-lived connections
are opened and closed in one block: the schema lock at start, ``hot relay status``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import cast
from zoneinfo import ZoneInfo

from psycopg.sql import Composable

from hot.application import HumansApplication
from hot.infra.commit_listener import CommitListener
from hot.infra.database import eventsourcing_env, schema_lock
from hot.infra.embedded import EmbeddedPostgres, EmbeddedRedis
from hot.infra.log_pages import Connect, LogPages
from hot.infra.metrics import HotMetrics
from hot.infra.metrics_sampler import Sampler
from hot.infra.personal_keys import POOL_NAME as PERSONAL_KEYS_POOL
from hot.infra.personal_keys import PostgresPersonalKeyStore
from hot.infra.recorder import HotRecorder
from hot.infra.relay.write_through import WriteThrough
from hot.infra.replicas import POOL_NAME as REPLICA_POOL
from hot.infra.replicas import Reads
from hot.infra.settings import Settings
from hot.infra.sql_read.schema import create_read_schema
from hot.infra.tracing import Tracing, tracing_from_env
from hot.tuning import DEADLINE_SECONDS, MAX_BATCH, WRITE_THROUGH_TIMEOUT_SECONDS
from hot_follow.redis_client import RedisClient, redis_client

REDIS_CLIENT_NAME = "hot"  # as Redis's CLIENT LIST shows each connection of Hot.redis
WRITE_THROUGH_CLIENT_NAME = "hot-write-through"  # and each of the write-through's


@dataclass
class Hot:
    """HoT's running parts, and the embedded servers it started, closed by ``close``:
    ``redis`` is the process's one Redis client (None without Redis), lent to its users;
    ``metrics`` its Prometheus metrics and ``sampler`` their sampler (None: metrics off);
    ``tracing`` its OpenTelemetry traces (None: off)."""

    settings: Settings
    database_url: str
    redis_url: str | None
    redis: RedisClient | None
    app: HumansApplication
    metrics: HotMetrics | None = None
    sampler: Sampler | None = None
    tracing: Tracing | None = None
    replicas: Reads | None = None  # where queries read, with HOT_DATABASE_READ_URL
    _closers: list[Callable[[], None]] = field(default_factory=list)
    _closed: bool = False

    def close(self) -> None:
        """Close the application, then every other part, the last made first (once: a
        second call does nothing)."""
        if self._closed:
            return
        self._closed = True
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

    with schema_lock(database_url) as conn:
        create_read_schema(conn)  # the SQL read contract (``hot.infra.sql_read``)
        personal_keys = PostgresPersonalKeyStore(database_url, listen=shows_personal)
        try:
            app = HumansApplication(
                env=eventsourcing_env(database_url),
                today=today,
                max_batch=max_batch,
                personal_keys=personal_keys,
                claim_secret=personal_keys.server_secret(),
                seal_personal_data=seal_personal_data,
                deadline=deadline,
            )
        except BaseException:
            personal_keys.close()  # the application closes it, once there is one
            raise
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
    tracing = tracing_from_env()  # the OTEL_* variables: None unless they turn traces on
    if tracing is not None:
        closers.append(tracing.close)  # the last closed: spans ended at close are exported
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
    client = None
    if redis_url is not None:
        client = redis_client(
            redis_url, cluster=settings.redis_cluster, client_name=REDIS_CLIENT_NAME
        )
        closers.append(client.close)  # before an embedded server stops
    app = build_application(database_url, settings.timezone, shows_personal=shows_personal)
    replicas = None
    if settings.database_read_urls:
        replicas = read_from_replicas(app, settings.database_read_urls, settings.replica_max_lag)
        closers.append(replicas.close)
    metrics = sampler = None
    if settings.metrics:
        metrics = HotMetrics()
        app.measure_with(metrics.command_meter)
        sampler = Sampler(metrics, app.head_now)
        sampler.watch_postgres("hot-events", app.recorder.datastore.pool)  # type: ignore[attr-defined]
        keys = app.personal_keys
        if isinstance(keys, PostgresPersonalKeyStore):
            sampler.watch_postgres(PERSONAL_KEYS_POOL, keys.pool)
        if client is not None:
            sampler.watch_redis(REDIS_CLIENT_NAME, client)
        for replica in replicas.replicas if replicas is not None else []:
            sampler.watch_postgres(f"{REPLICA_POOL}:{replica.name}", replica.pool)
        closers.append(sampler.start().close)
    if tracing is not None:
        app.trace_with(tracing.commands)
    if serves_commands:
        closers.append(follow_commits(app, database_url))
        if redis_url is not None and settings.write_through:
            prefix, personal = settings.redis_prefix, settings.stream_personal
            closers.append(
                write_through(
                    app,
                    redis_url,
                    cluster=settings.redis_cluster,
                    prefix=prefix,
                    personal=personal,
                    metrics=metrics,
                    sampler=sampler,
                    tracing=tracing,
                )
            )
    return Hot(
        settings, database_url, redis_url, client, app, metrics, sampler, tracing, replicas, closers
    )


def read_from_replicas(app: HumansApplication, urls: Sequence[str], max_lag: int) -> Reads:
    """Have ``app``'s queries read the log from the replicas at ``urls`` (while they are
    healthy; see ``hot.infra.replicas``): its ``Reads``, which the caller closes."""

    def reads(primary: Connect, table: Composable) -> Reads:
        return Reads(primary, table, urls, max_lag=max_lag)

    pages = LogPages.on(app, reads=reads)
    app.pages = pages
    return pages.reads


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
    app: HumansApplication,
    redis_url: str,
    *,
    cluster: bool = False,
    prefix: str,
    personal: bool,
    metrics: HotMetrics | None = None,
    sampler: Sampler | None = None,
    tracing: Tracing | None = None,
) -> Callable[[], None]:
    """Have ``app`` publish what it commits to the streams under ``prefix`` at once (see
    ``hot.infra.relay.write_through``); what stops it (and closes its Redis client).
    ``cluster``: ``redis_url`` names a node of a Redis Cluster (``HOT_REDIS_CLUSTER``).

    The write-through has a Redis client of its own, not ``Hot.redis``: its short socket
    timeouts make a slow Redis leave the publish to the relay rather than hold up the
    committer, timeouts the shared client must not have (the live feed's reads block
    for longer); and its own pool keeps its connection from waiting behind theirs.
    """
    client = redis_client(
        redis_url,
        cluster=cluster,
        client_name=WRITE_THROUGH_CLIENT_NAME,
        socket_timeout=WRITE_THROUGH_TIMEOUT_SECONDS,
        socket_connect_timeout=WRITE_THROUGH_TIMEOUT_SECONDS,
    )
    meter = None
    if metrics is not None:
        meter = metrics.write_through
        if sampler is not None:
            sampler.watch_redis(WRITE_THROUGH_CLIENT_NAME, client)
    tracer = tracing.tracer if tracing is not None else None
    publish = WriteThrough(client, prefix=prefix, personal=personal, meter=meter, tracer=tracer)
    stop_telling = app.tell_commits(publish)

    def close() -> None:
        stop_telling()
        publish.close()
        client.close()

    return close
