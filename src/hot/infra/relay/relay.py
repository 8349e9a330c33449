"""``Relay``: follows the PostgreSQL log and publishes every public event into Redis streams.

While it holds the lock, the relay repeats: read the batch of public events after
where the all-events stream stands, publish it in one atomic step, and when nothing
is left, wait for a ``NOTIFY`` on the events channel (or a slow safety poll, which
also checks that Redis still has what was published). Its position is the all-events
stream's last id and nothing else: no state of its own, so after a crash, a restart
or a takeover it resumes exactly where Redis stands. If Redis lost the streams, it
publishes again the tail of the log that the retention setting keeps. Publishing a
human's ``HUMAN_FORGOTTEN`` deletes their earlier entries (see ``publisher``). Errors
of either server are logged; the relay backs off, reconnects and plans again. A Redis
Cluster's failover is such an error (the slot has no master for a while); if the
replica that took over lacks its master's last writes, the plan finds the streams
below what the relay published, and it publishes them again.
"""

from __future__ import annotations

import contextlib
import logging
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from eventsourcing.persistence import PersistenceError
from opentelemetry import trace

from hot.application import CATALOG, HumansApplication
from hot.infra.metrics_meters import RelayMeter
from hot.infra.notices import noticed_rows
from hot.infra.relay.leader import Leadership
from hot.infra.relay.leading import LeadingLoop
from hot.infra.relay.publisher import Batch, StreamPublisher
from hot.infra.relay.repair import fill_behind
from hot.infra.relay.retention import RetentionWindow
from hot.infra.relay.source import EventLog
from hot.infra.relay.status import RelayStatus
from hot.infra.settings import DEFAULT_STREAM_RETENTION, StreamRetention
from hot.tuning import (
    LAG_CAP,
    LAG_CHECK_SECONDS,
    RELAY_BACKOFF_SECONDS,
    RELAY_BATCH,
    RELAY_POLL_SECONDS,
    RELAY_TAKEOVER_SECONDS,
)
from hot_follow.redis_client import REDIS_ERRORS, RedisClient
from hot_follow.streams import StreamKeys

log = logging.getLogger(__name__)

# The errors of PostgreSQL and Redis (a cluster's too: a failover), which the relay
# outlives by retrying.
SERVER_ERRORS: tuple[type[Exception], ...] = (psycopg.Error, PersistenceError, *REDIS_ERRORS)


@dataclass(frozen=True)
class _Cursor:
    after: int  # the next read starts after this log position
    expected: int  # where the all-events stream stands


class Relay(LeadingLoop[RelayStatus]):
    """Publishes the public events of ``app``'s log into the Redis streams under ``prefix``.

    ``run()`` blocks until ``stop()``; ``start()`` runs it in a thread. Any number of
    relays may run: one publishes, the others wait to take over. Personal fields are
    masked in the streams unless ``personal`` (``HOT_STREAM_PERSONAL``). ``meter`` is
    shown its status and told what it publishes (metrics); each page published is a span
    of ``tracer``'s (traces).
    """

    thread_name, log_name = "hot-relay", "relay"

    def __init__(
        self,
        app: HumansApplication,
        client: RedisClient,
        database_url: str,
        *,
        prefix: str = "hot",
        retention: StreamRetention = DEFAULT_STREAM_RETENTION,
        batch_size: int = RELAY_BATCH,
        poll_interval: float = RELAY_POLL_SECONDS,
        takeover_interval: float = RELAY_TAKEOVER_SECONDS,
        backoff: float = RELAY_BACKOFF_SECONDS,
        personal: bool = False,
        meter: RelayMeter | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        if batch_size < 1 or poll_interval <= 0:
            raise ValueError("A relay needs a batch size of at least 1 and a positive poll.")
        self.log = EventLog(app, personal=personal)  # events as the streams show them
        self.stream_keys = StreamKeys(prefix, CATALOG.names)
        self.publisher = StreamPublisher(client, self.stream_keys, self.log.earlier)
        self.retention = RetentionWindow(retention, self.log)
        self.leadership = Leadership(database_url, prefix, self.log.channel)
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.takeover_interval = takeover_interval
        self.backoff = backoff
        self.meter = meter or RelayMeter()
        self.tracer = tracer or trace.NoOpTracer()
        super().__init__(RelayStatus("starting"), self.meter.status)
        self._lag_checked = 0.0

    # Running ------------------------------------------------------------------------

    def _retried(self) -> tuple[type[BaseException], ...]:
        return SERVER_ERRORS

    def _recover(self, error: BaseException) -> None:
        if not isinstance(error, REDIS_ERRORS):
            self.log.recover()

    def _close(self) -> None:
        self.publisher.close()

    # The loop -----------------------------------------------------------------------

    def _turn(self) -> None:
        if not self.leadership.try_acquire():
            if self.status().state != "standby":
                log.info("relay: another relay is active; standing by")
            self._report(state="standby", error=None)
            self._stopping.wait(self.takeover_interval)
            return
        log.info("relay: active, publishing to %s", self.stream_keys.all)
        self._report(state="active", error=None)
        self._lead()

    def _lead(self) -> None:
        self.log.use(self.leadership.connection)  # the relay reads on its own connection
        try:
            self._follow()
        finally:
            self.log.use(None)

    def _follow(self) -> None:
        seen = self.status().published
        cursor = self._plan()
        if cursor.expected < seen:
            # Redis lost data while the relay was away (an error): it restarted empty, or
            # a Redis Cluster's replica took over without its master's last writes.
            log.warning(
                "relay: %s stands at %d, below %d published: Redis lost data; refilling",
                self.stream_keys.all,
                cursor.expected,
                seen,
            )
            self.meter.refilled()
        with ThreadPoolExecutor(1, thread_name_prefix="hot-relay-read") as reader:
            ahead: Future[Batch] | None = None
            while not self._stopping.is_set():
                self.leadership.drain()
                batch = ahead.result() if ahead else self._next(cursor.after)
                ahead = None
                if batch.size == self.batch_size:  # a backlog: read on while this publishes
                    ahead = reader.submit(self._next, batch.last)
                if batch.size:
                    cursor = self._publish(cursor, batch)
                    if ahead and cursor.after != batch.last:
                        _discard(ahead)  # planned again: what was read ahead is void
                        ahead = None
                    if ahead:
                        self._report_progress(cursor)
                        continue
                self._report(published=cursor.expected, lag=0, caught_up=True, checked_at=_now())
                # Read to the log's end (and published): what comes next, notices may carry.
                at_end = batch.size < self.batch_size and cursor.expected >= batch.last
                if at_end:
                    cursor, notified = self._follow_notices(cursor)
                else:
                    notified = self.leadership.wait(self.poll_interval, self._stopping) is not None
                if notified:
                    continue
                if self.publisher.last_position() < cursor.expected:
                    log.warning("relay: Redis lost the streams; publishing the log's tail again")
                    self.meter.refilled()
                    cursor = self._plan()

    def _follow_notices(self, cursor: _Cursor) -> tuple[_Cursor, bool]:
        """Publish the rows that new-event notifications carry, for as long as they carry
        them all; then the cursor, and True if the log is to be read next (False: no
        notification came within the poll interval, the safety poll is due).
        """
        while True:
            notices = self.leadership.wait(self.poll_interval, self._stopping)
            if notices is None:
                return cursor, False
            rows = noticed_rows(notices, cursor.after, self.batch_size)
            if rows is None or self._stopping.is_set():
                return cursor, True
            batch = self.publisher.encode(self.log.decode(rows))
            if not batch.size:
                continue
            cursor = self._publish(cursor, batch)
            if cursor.expected < batch.last:
                return cursor, True  # planned again: read the log from there
            self._report(published=cursor.expected, lag=0, caught_up=True, checked_at=_now())

    def _next(self, after: int) -> Batch:
        """The next batch of the log, read and encoded (in the read-ahead thread, if any)."""
        return self.publisher.encode(self.log.read(after, self.batch_size))

    def _plan(self) -> _Cursor:
        """Where to go on from: where Redis stands, or the retention window if it lost all."""
        streams = self.publisher.last_positions()
        stands = streams[self.stream_keys.all]
        floor = self.retention.floor()
        fill_behind(self.log, self.publisher, streams, floor, self.batch_size)
        if stands == 0 and floor > 0:
            log.info(
                "relay: %s is empty; publishing the events after %d", self.stream_keys.all, floor
            )
        cursor = _Cursor(after=stands or floor, expected=stands)
        self._report(published=stands, caught_up=False)
        return cursor

    def _publish(self, cursor: _Cursor, batch: Batch) -> _Cursor:
        with self.tracer.start_as_current_span("relay XADD") as span:
            published = self.publisher.publish(batch, cursor.expected, self.retention.trim())
            span.set_attributes(
                {
                    "db.system.name": "redis",
                    "hot.events": batch.size,
                    "hot.log.last_position": batch.last,
                    "hot.relay.accepted": published.accepted,
                }
            )
        if not published.accepted:
            log.warning(
                "relay: %s stands at %d, below %d: Redis lost data; planning again",
                self.stream_keys.all,
                published.last,
                cursor.expected,
            )
            self.meter.refilled()
            return self._plan()
        self.meter.published(batch.size)
        return _Cursor(max(batch.last, published.last), published.last)

    # Status -------------------------------------------------------------------------

    def _report_progress(self, cursor: _Cursor) -> None:
        now = time.monotonic()
        if now - self._lag_checked < LAG_CHECK_SECONDS:
            self._report(published=cursor.expected, caught_up=False)
            return
        self._lag_checked = now
        lag = self.log.count_after(cursor.expected, LAG_CAP)
        self._report(published=cursor.expected, lag=lag, caught_up=False, checked_at=_now())


def _discard(ahead: Future[Batch]) -> None:
    """Let a read ahead finish (it uses the relay's connection), and drop what it read."""
    with contextlib.suppress(*SERVER_ERRORS):
        ahead.result()


def _now() -> datetime:
    return datetime.now(UTC)
