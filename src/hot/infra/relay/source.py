"""The relay's view of the PostgreSQL log: its public events, and a few positions in it.

Pages of events are read by ``hot.infra.log_pages.LogPages`` (the reader of the
application and of followers too), as the streams show them: personal fields masked
unless the log is ``personal``. A masked page looks up no personal-data key and
decrypts nothing: a masked field reads the same sealed or not. The rows a
notification carries are decoded by the same decoder.

The queries are short SQL on the events table, answered from its ``notification_id``
index. They run on the relay's own connection while it has one (``use``): one round
trip a read, none spent on the pool's liveness check, and no waiting behind the API's
requests for a pooled connection; otherwise on the application's pool.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder

from hot.application import HumansApplication
from hot.application.catalog import is_public
from hot.application.decoding import Row
from hot.application.ports import PageRequest
from hot.application.views import RecordedEvent
from hot.infra.log_pages import LogPages, of_names

_BIGINT_MAX = 2**63 - 1


class EventLog:
    """The public events of the log that ``app`` records (of ``names`` only, if given),
    in log order: their personal fields shown if ``personal``, else masked (as the
    streams show them)."""

    def __init__(
        self, app: HumansApplication, names: Sequence[str] = (), *, personal: bool = True
    ) -> None:
        self.app = app
        self.names = tuple(names)
        self._named = frozenset(self.names)
        self.personal = personal
        self.recorder = cast(PostgresApplicationRecorder, app.recorder)
        self.channel = self.recorder.channel_name
        self._conn: psycopg.Connection[Any] | None = None
        self.pages = LogPages.on(app, connection=self._connection)

    def use(self, conn: psycopg.Connection[Any] | None) -> None:
        """Query on ``conn`` (an autocommit connection of the caller's), or the pool if None.

        Every query here walks the ``notification_id`` index in order and stops early.
        With stale statistics (right after a bulk load, until autovacuum analyzes the
        table) the planner would rather fetch the whole rest of the table and sort it,
        for every batch; on the relay's own connection, it is told not to.
        """
        if conn is not None:
            conn.execute("SET enable_seqscan = off")
            conn.execute("SET enable_bitmapscan = off")
        self._conn = conn

    def read(
        self, after: int, limit: int, *, upto: int | None = None, names: Sequence[str] = ()
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events with positions in (``after``, ``upto``], oldest first."""
        request = PageRequest(after, limit, tuple(names or self.names), upto, self.personal)
        return self.pages.read(request)

    def decode(self, rows: Sequence[Row]) -> list[RecordedEvent]:
        """The public events among ``rows`` of the events table (as ``read`` gives them)."""
        named = self._named
        public = [row for row in rows if (row.name in named if named else is_public(row.name))]
        return self.pages.decoder.decode(public, personal=self.personal)

    def earlier(self, subject: UUID, before: int) -> list[tuple[str, int]]:
        """The (name, position) of every public event of ``subject`` before ``before``.

        What forgetting a human erases from the streams; found on the events table's
        primary key (originator_id, originator_version), without reading the payloads.
        """
        topics, named = of_names(self.names)
        rows = self.pages.query(
            "SELECT topic, notification_id FROM {table} WHERE originator_id = %s "
            f"AND notification_id < %s AND {topics} ORDER BY originator_version",
            (subject, before, *named),
        )
        return [(str(topic), int(position)) for topic, position in rows]

    def head(self) -> int:
        """The position of the newest public event (0 when there is none)."""
        return self.newest()

    def newest(
        self, *, skip: int = 0, names: Sequence[str] = (), above: int = 0, upto: int | None = None
    ) -> int:
        """The position of the newest public event once the ``skip`` newest are skipped.

        Only events of ``names`` (default: every public name) with positions in
        (``above``, ``upto``] count; 0 when there is no such event.
        """
        topics, named = of_names(names or self.names)
        rows = self.pages.query(
            f"SELECT notification_id FROM {{table}} WHERE {topics} "
            "AND notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id DESC OFFSET %s LIMIT 1",
            (*named, above, _upto(upto), skip),
        )
        return int(rows[0][0]) if rows else 0

    def count_after(self, position: int, cap: int) -> int:
        """How many public events come after ``position``, counting at most ``cap``."""
        topics, named = of_names(self.names)
        rows = self.pages.query(
            "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE notification_id > %s "
            f"AND {topics} LIMIT %s) AS pending",
            (position, *named, cap),
        )
        return int(rows[0][0])

    def first_since(self, instant: datetime) -> int:
        """The position of the first public event recorded at or after ``instant``.

        A binary search over positions, reading one event per step: events are recorded
        in (nearly) time order, so this finds where an age-based window starts in a few
        dozen index lookups; one past the newest position when every event is older.
        """
        newest = int(
            self.pages.query("SELECT coalesce(max(notification_id), 0) FROM {table}", ())[0][0]
        )
        low, high = 0, newest  # the first event after ``high`` (none) is never too old
        while low < high:
            middle = (low + high) // 2
            found = self.read(middle, 1)
            if found and found[0].time < instant:
                low = found[0].position  # too old, and so is every event before it
            else:
                high = middle
        found = self.read(low, 1)
        return found[0].position if found else newest + 1

    def recover(self) -> None:
        """Drop every broken connection of the pool at once, after PostgreSQL dropped them.

        Left alone, the pool finds dead connections one request at a time, pausing
        longer after each, and times out when many died together.
        """
        with contextlib.suppress(psycopg.Error):
            self.recorder.datastore.pool.check()

    @contextlib.contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._conn is not None:
            yield self._conn
        else:
            with self.recorder.datastore.get_connection() as conn:
                yield conn


def _upto(upto: int | None) -> int:
    return _BIGINT_MAX if upto is None else upto
