"""``SqlReadProjector``: keeps ``hot_read`` in step with the log, each event exactly once.

While it holds its lock, the projector repeats: read the page of public events after
``hot_read.contract.position`` through the relay's view of the log (``EventLog``: the
one page reader and the one decoder, personal fields masked, no key looked up), then
in one transaction check that the position has not moved, insert the events into
``hot_read.events``, fold them into their humans' rows (``humans.fold``) and move the
position. When the page was the log's end, it waits for a commit's ``NOTIFY`` (or a
slow safety poll). A crash between two transactions loses nothing and repeats nothing:
the next projector goes on from the stored position. Its transactions commit without
waiting for the disk: a crash of PostgreSQL may take back the last pages, position
included, and they are projected again.

Any number may run (``hot serve`` and ``hot relay`` each start one): one projects,
holding a PostgreSQL session advisory lock of its own, the others stand by and take
over within seconds. Errors of PostgreSQL are logged; it backs off and plans again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

import msgspec
import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import tuple_row

from hot.application import HumansApplication, RecordedEvent
from hot.infra.metrics_meters import ProjectorMeter
from hot.infra.relay.leader import Leadership
from hot.infra.relay.leading import LeadingLoop
from hot.infra.relay.source import EventLog
from hot.infra.sql_read.humans import COLUMNS, HumanRow, fold
from hot.infra.sql_read.schema import CONTRACT_VERSION, SCHEMA, read_position
from hot.tuning import (
    LAG_CAP,
    LAG_CHECK_SECONDS,
    RELAY_BACKOFF_SECONDS,
    RELAY_POLL_SECONDS,
    RELAY_TAKEOVER_SECONDS,
    SQL_READ_BATCH,
    SQL_READ_HUMANS_KEPT,
    SQL_READ_INTERVAL_SECONDS,
)

log = logging.getLogger(__name__)

READ_LOCK = (0x484F5452, CONTRACT_VERSION)  # "HOTR": the projector of this contract version
APPLICATION_NAME = "hot-sql-read"  # its connection, as pg_stat_activity shows it
SERVER_ERRORS = (psycopg.Error, PersistenceError)

# A page goes to PostgreSQL as one JSON document, encoded in C by msgspec, and PostgreSQL
# makes the rows of it, typed by the table's own row type: the projector shares the
# interpreter lock with ``hot serve``'s event loop, and a row formatted in Python (a COPY
# row, a row of parameters) costs it ten times the microseconds.
_INSERT_EVENTS = (
    f"INSERT INTO {SCHEMA}.events "
    f"SELECT * FROM jsonb_populate_recordset(NULL::{SCHEMA}.events, %s::jsonb)"
)
_SELECT_HUMANS = f"SELECT {', '.join(COLUMNS)} FROM {SCHEMA}.humans WHERE id = ANY(%s)"
_UPSERT_HUMANS = (
    f"INSERT INTO {SCHEMA}.humans "
    f"SELECT * FROM jsonb_populate_recordset(NULL::{SCHEMA}.humans, %s::jsonb) "
    "ON CONFLICT (id) DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in COLUMNS[1:])
)


@dataclass(frozen=True)
class ProjectorStatus:
    """The projector's state as it last saw it.

    ``state``: ``starting``, ``standby`` (another projector holds the lock), ``active``,
    ``retrying`` (after an error, see ``error``) or ``stopped``. ``position``: up to where
    ``hot_read`` holds every public event; ``lag``: the public events after it, as of
    ``checked_at`` (0 when ``caught_up``).
    """

    state: str
    position: int = 0
    lag: int = 0
    caught_up: bool = False
    checked_at: datetime | None = None
    error: str | None = None


class PositionMovedError(Exception):
    """``hot_read``'s position is not where this projector left it: another wrote there."""


class SqlReadProjector(LeadingLoop[ProjectorStatus]):
    """Keeps the ``hot_read`` tables of ``app``'s database (at ``database_url``) in step.

    ``run()`` blocks until ``stop()``; ``start()`` runs it in a thread. Once at the log's
    end, it reads again at most every ``interval`` seconds, when a commit was notified.
    ``meter`` is shown its status (metrics).
    """

    thread_name, log_name = "hot-sql-read", "sql read"

    def __init__(
        self,
        app: HumansApplication,
        database_url: str,
        *,
        batch_size: int = SQL_READ_BATCH,
        poll_interval: float = RELAY_POLL_SECONDS,
        takeover_interval: float = RELAY_TAKEOVER_SECONDS,
        backoff: float = RELAY_BACKOFF_SECONDS,
        interval: float = SQL_READ_INTERVAL_SECONDS,
        meter: ProjectorMeter | None = None,
    ) -> None:
        self.log = EventLog(app, personal=False)  # every public event, as masked readers see it
        self.leadership = Leadership(
            database_url, "", self.log.channel, keys=READ_LOCK, application_name=APPLICATION_NAME
        )
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.takeover_interval = takeover_interval
        self.backoff = backoff
        self.interval = interval
        super().__init__(ProjectorStatus("starting"), (meter or ProjectorMeter()).status)
        self._lag_checked = 0.0
        self._humans: dict[UUID, HumanRow] = {}  # rows as this projector last wrote them

    # Running ------------------------------------------------------------------------

    def _retried(self) -> tuple[type[BaseException], ...]:
        return (*SERVER_ERRORS, PositionMovedError)

    def _recover(self, error: BaseException) -> None:
        self.log.recover()

    def catch_up(self) -> int:
        """Project every public event recorded by now, in this thread; the position reached.

        For tests and benchmarks: takes the lock for the while (``RuntimeError`` if
        another projector holds it).
        """
        if not self.leadership.try_acquire():
            raise RuntimeError("Another projector holds the hot_read lock.")
        try:
            conn = self.leadership.connection
            self.log.use(conn)
            self._humans.clear()  # another may have written since
            position = read_position(conn)
            while True:
                position, full = self._project_page(conn, position)
                if not full:
                    return position
        finally:
            self.log.use(None)
            self.leadership.close()

    # The loop -----------------------------------------------------------------------

    def _turn(self) -> None:
        if not self.leadership.try_acquire():
            if self.status().state != "standby":
                log.info("sql read: another projector is active; standing by")
            self._report(state="standby", error=None)
            self._check_lag_standing_by()
            self._stopping.wait(self.takeover_interval)
            return
        log.info("sql read: active, keeping %s in step with the log", SCHEMA)
        self._report(state="active", error=None)
        conn = self.leadership.connection
        self.log.use(conn)  # reads on its own connection, as the relay does
        try:
            self._follow(conn)
        finally:
            self.log.use(None)

    def _follow(self, conn: psycopg.Connection[Any]) -> None:
        self._humans.clear()  # another may have written while this one did not hold the lock
        position = read_position(conn)
        self._report(position=position, caught_up=False)
        while not self._stopping.is_set():
            self.leadership.drain()
            position, full = self._project_page(conn, position)
            if full:
                self._report_progress(position)
                continue
            self._report(position=position, lag=0, caught_up=True, checked_at=_now())
            # Let commits gather into the next page: a page costs the database a dozen
            # statements whatever its size, and writers commit hundreds of times a second.
            self._stopping.wait(self.interval)
            self.leadership.wait(self.poll_interval, self._stopping)

    def _project_page(self, conn: psycopg.Connection[Any], after: int) -> tuple[int, bool]:
        """Project the next page after ``after``: the position reached, and whether the page
        was full (more may follow at once)."""
        events = self.log.read(after, self.batch_size)
        if events:
            write_page(conn, events, after, self._humans)
            return events[-1].position, len(events) == self.batch_size
        return after, False

    # Status -------------------------------------------------------------------------

    def _report_progress(self, position: int) -> None:
        now = time.monotonic()
        if now - self._lag_checked < LAG_CHECK_SECONDS:
            self._report(position=position, caught_up=False)
            return
        self._lag_checked = now
        lag = self.log.count_after(position, LAG_CAP)
        self._report(position=position, lag=lag, caught_up=False, checked_at=_now())

    def _check_lag_standing_by(self) -> None:
        """While another projects: its position and lag, now and then (for health checks)."""
        now = time.monotonic()
        if now - self._lag_checked < LAG_CHECK_SECONDS:
            return
        self._lag_checked = now
        with self.log.recorder.datastore.get_connection() as conn:
            position = read_position(conn)
        lag = self.log.count_after(position, LAG_CAP)
        self._report(position=position, lag=lag, caught_up=lag == 0, checked_at=_now())


def write_page(
    conn: psycopg.Connection[Any],
    events: Sequence[RecordedEvent],
    after: int,
    humans: dict[UUID, HumanRow] | None = None,
) -> None:
    """In one transaction: ``events`` (the public events after ``after``, in log order)
    into ``hot_read.events``, their humans' rows, and the contract's position.

    ``PositionMovedError`` (and nothing written) if the position is not ``after``.
    ``humans``: rows as written by this connection's earlier pages (while no other
    writer could write), which need not be read again; emptied if this one fails.
    """
    known = {} if humans is None else humans
    try:
        with conn.transaction(), conn.cursor(row_factory=tuple_row) as cursor:
            # hot_read is made from the log, and the position moves with the rows: a page
            # lost to a crash of PostgreSQL is projected again from the stored position.
            # So its commit need not wait for the disk, nor contend with the writers' for
            # flushing the WAL (bench/sql_read_bench.py: 0.74x with, 0.95-1.02x without).
            cursor.execute("SET LOCAL synchronous_commit = off")
            row = cursor.execute(f"SELECT position FROM {SCHEMA}.contract FOR UPDATE").fetchone()
            stored = 0 if row is None else int(row[0])
            if stored != after:
                raise PositionMovedError(f"{SCHEMA} stands at {stored}, not {after}")
            cursor.execute(_INSERT_EVENTS, (_encode(events),))
            unknown = list({event.subject for event in events} - known.keys())
            if unknown:
                cursor.execute(_SELECT_HUMANS, (unknown,))
                known.update((columns[0], HumanRow.of(columns)) for columns in cursor)
            changed = [known[subject] for subject in fold(known, events)]
            if changed:
                cursor.execute(_UPSERT_HUMANS, (_encode([human.row() for human in changed]),))
            cursor.execute(
                f"UPDATE {SCHEMA}.contract SET position = %s, updated_at = now()",
                (events[-1].position,),
            )
    except BaseException:
        known.clear()  # folded, but perhaps not written
        raise
    for human in changed:
        human.settle()
    if len(known) > SQL_READ_HUMANS_KEPT:
        known.clear()


def _encode(rows: Any) -> str:
    """``rows`` as the one JSON text a statement's ``jsonb_populate_recordset`` reads."""
    return _ENCODER.encode(rows).decode()


_ENCODER = msgspec.json.Encoder()


def _now() -> datetime:
    return datetime.now(UTC)
