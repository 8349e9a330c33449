"""The relay's view of the PostgreSQL log: its public events, and a few positions in it.

Events are read in batches with the recorder's own bulk read, and built into
``RecordedEvent``s by the application, exactly as every other reader gets them. The
other questions (the newest public position, where a retention window starts) are
short SQL queries on the events table, answered from its ``notification_id`` index.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.sql import SQL, Identifier

from hot.application import CATALOG, HumansApplication
from hot.application.views import RecordedEvent

_BIGINT_MAX = 2**63 - 1


class EventLog:
    """The public events of the log that ``app`` records, in log order."""

    def __init__(self, app: HumansApplication, names: Sequence[str] = CATALOG.names) -> None:
        self.app = app
        self.names = tuple(names)
        self.recorder = cast(PostgresApplicationRecorder, app.recorder)
        self.channel = self.recorder.channel_name

    def read(
        self, after: int, limit: int, *, upto: int | None = None, names: Sequence[str] = ()
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events with positions in (``after``, ``upto``], oldest first."""
        notifications = self.recorder.select_notifications(
            start=after,
            limit=limit,
            stop=upto,
            topics=tuple(names) or self.names,
            inclusive_of_start=False,
        )
        return [self.app.recorded_event(n) for n in notifications]

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
        row = self._query(
            "SELECT notification_id FROM {table} WHERE topic = ANY(%s) "
            "AND notification_id > %s AND notification_id <= %s "
            "ORDER BY notification_id DESC OFFSET %s LIMIT 1",
            (list(names or self.names), above, _BIGINT_MAX if upto is None else upto, skip),
        )
        return int(row[0]) if row else 0

    def count_after(self, position: int, cap: int) -> int:
        """How many public events come after ``position``, counting at most ``cap``."""
        row = self._query(
            "SELECT count(*) FROM (SELECT 1 FROM {table} WHERE notification_id > %s "
            "AND topic = ANY(%s) LIMIT %s) AS pending",
            (position, list(self.names), cap),
        )
        return int(row[0]) if row else 0

    def first_since(self, instant: datetime) -> int:
        """The position of the first public event recorded at or after ``instant``.

        A binary search over positions, reading one event per step: events are recorded
        in (nearly) time order, so this finds where an age-based window starts in a few
        dozen index lookups; one past the newest position when every event is older.
        """
        newest = self.recorder.max_notification_id() or 0
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

    def _query(self, statement: str, params: Sequence[Any]) -> Any:
        recorder = self.recorder
        table = Identifier(recorder.datastore.schema, recorder.events_table_name)
        query = SQL(statement).format(table=table)
        with self.recorder.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(query, params)
            row = curs.fetchone()
        return None if row is None else list(row.values())
