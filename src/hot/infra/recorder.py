"""``HotRecorder``: the ``eventsourcing`` PostgreSQL recorder, plus reads HoT needs.

It keeps the library's table and its table lock (so log order is commit order), and
writes a batch of events in one round trip: ``BEGIN``, the personal-data keys, the lock,
one ``INSERT`` of the events as four binary arrays and the ``COMMIT`` go out as one
pipeline. The ``INSERT`` also sends the ``NOTIFY`` (delivered at commit, like the
library's), with the inserted rows as its payload when they fit (see ``NOTICE_LIMIT``):
a listener such as the relay then has them without reading the table.

The group committer writes almost all batches, through a connection kept for writing
(no pool check before each batch); a write while it is busy takes a pooled connection.
After each commit it tells a listener (``tell_commits``; the streams' write-through)
the transaction's rows and the position of the last public event before them, which
the ``INSERT`` reads under the table lock. Pages of the log are read by
``hot.infra.log_pages``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast
from uuid import UUID

import psycopg
from eventsourcing import persistence
from eventsourcing.persistence import StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder, PostgresDatastore
from eventsourcing.utils import retry
from psycopg import Connection, Cursor
from psycopg.pq import TransactionStatus
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier, Literal

from hot.application.decoding import Row
from hot.infra.personal_keys import destroy_keys_statement, insert_keys_statement

# How psycopg's errors reach the application: as the library's own, as its recorder raises them.
_ERRORS: tuple[tuple[type[psycopg.Error], type[persistence.PersistenceError]], ...] = (
    (psycopg.InterfaceError, persistence.InterfaceError),
    (psycopg.OperationalError, persistence.OperationalError),
    (psycopg.DataError, persistence.DataError),
    (psycopg.IntegrityError, persistence.IntegrityError),
    (psycopg.InternalError, persistence.InternalError),
    (psycopg.ProgrammingError, persistence.ProgrammingError),
    (psycopg.NotSupportedError, persistence.NotSupportedError),
    (psycopg.DatabaseError, persistence.DatabaseError),
    (psycopg.Error, persistence.PersistenceError),
)


_BEGIN, _COMMIT, _ROLLBACK = SQL("BEGIN"), SQL("COMMIT"), SQL("ROLLBACK")

NOTICE_LIMIT = 7900
"""The longest payload a NOTIFY carries rows in (PostgreSQL allows under 8000 bytes).

The payload is a JSON array of ``[position, originator id, version, topic, state in
base64]``, one per row, in log order; rows that would not fit leave it empty, and a
listener reads the table instead."""


Committed = Callable[[int, Sequence[Row]], None]
"""Told of each transaction the recorder committed: the log position of the last event
of the topics it was given before the transaction, and the transaction's rows (as the
events table holds them, in log order)."""


def committed_rows(positions: Sequence[int], stored_events: Sequence[StoredEvent]) -> list[Row]:
    """The rows of the events table that ``stored_events`` became, at ``positions``."""
    return [
        Row(position, _uuid(e.originator_id), e.originator_version, e.topic, e.state)
        for position, e in zip(positions, stored_events, strict=True)
    ]


class HotRecorder(PostgresApplicationRecorder):
    """The application recorder HoT's composition root selects.

    ``committed``, when set (``tell_commits``), is called after each commit of
    ``insert_events``, in the writer's thread (the composition root sets it to the
    streams' write-through).
    """

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        table = SQL("{0}.{1}").format(
            Identifier(datastore.schema), Identifier(self.events_table_name)
        )
        inserting = (
            "WITH inserted AS (INSERT INTO {0} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::int8[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id, originator_id, originator_version, topic, state), "
            "noticed AS (SELECT json_agg(json_build_array(notification_id, originator_id, "
            "originator_version, topic, encode(state, 'base64')) ORDER BY notification_id"
            ")::text AS payload FROM inserted), "
            "notice AS (SELECT pg_notify({1}, CASE WHEN octet_length(payload) <= {2} "
            "THEN payload ELSE '' END) FROM noticed) "
        )
        parts = (table, Literal(self.channel_name), Literal(NOTICE_LIMIT))
        self._insert_and_notify = SQL(
            inserting + "SELECT notification_id FROM inserted, notice ORDER BY notification_id"
        ).format(*parts)
        # The statement's snapshot does not see its own rows (and the table lock is held):
        # "before" is the position of the log's last event of the given topics before them.
        self._insert_and_notify_before = SQL(
            inserting + "SELECT notification_id, coalesce((SELECT notification_id FROM {0} "
            "WHERE topic = ANY(%b::text[]) ORDER BY notification_id DESC LIMIT 1), 0) AS before "
            "FROM inserted, notice ORDER BY notification_id"
        ).format(*parts)
        self._writer: Connection[DictRow] | None = None
        self._writer_lock = threading.Lock()
        self.committed: Committed | None = None
        self._told_topics: list[str] = []

    def tell_commits(self, committed: Committed | None, topics: Sequence[str] = ()) -> None:
        """Have ``committed`` told of each commit of ``insert_events`` (None: no more),
        with the position of the last event of ``topics`` before the transaction."""
        self._told_topics = list(topics)
        self.committed = committed

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        """Record ``stored_events`` (with the keys in ``kwargs``) in one transaction, one
        round trip; their log positions, in order. A version taken is ``IntegrityError``.
        Then ``committed`` is told, outside the retries: telling never records again."""
        committing: tuple[int | None, list[int]] = self._insert_committing(stored_events, **kwargs)
        before, positions = committing
        committed = self.committed
        if committed is not None and before is not None:
            committed(before, committed_rows(positions, stored_events))
        return positions

    @retry((persistence.InterfaceError, persistence.OperationalError), max_attempts=10, wait=0.2)
    def _insert_committing(
        self, stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> tuple[int | None, list[int]]:
        """The position before the transaction (None if not asked for), and the
        positions of its events."""
        with self._connection() as conn:
            try:
                # BEGIN and COMMIT as statements of the pipeline: psycopg's transaction()
                # would cost a synchronisation of its own.
                with conn.pipeline(), conn.cursor() as curs:
                    curs.execute(_BEGIN)
                    self._insert_events(curs, stored_events, **kwargs)
                    self._lock_table(curs)
                    inserting = conn.cursor(binary=True)
                    self._insert_notifying(inserting, stored_events)
                    curs.execute(_COMMIT)
            except BaseException:
                _roll_back(conn)
                raise
            inserted = inserting.fetchall()
        before = inserted[0].get("before") if inserted else None
        return before, [int(row["notification_id"]) for row in inserted]

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """Lock the table, insert the events and notify the channel with their rows, in
        the transaction of ``curs``; their positions are its result (``fetchall``)."""
        self._lock_table(curs)
        self._insert_notifying(curs, stored_events)

    def _insert_notifying(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent]
    ) -> None:
        """The INSERT; its result rows have the positions, and "before" if ``committed``
        is to be told."""
        params: list[Any] = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        statement = self._insert_and_notify
        if self.committed is not None:
            statement = self._insert_and_notify_before
            params.append(self._told_topics)
        curs.execute(statement, params, prepare=True)

    def close(self) -> None:
        """Close the connection kept for writing (the pool is the datastore's)."""
        with self._writer_lock:
            if self._writer is not None:
                self._writer.close()
                self._writer = None

    @contextmanager
    def _connection(self) -> Iterator[Connection[DictRow]]:
        """The connection kept for writing if it is free, else a pooled one; psycopg's
        errors raised as the library's."""
        if not self._writer_lock.acquire(blocking=False):
            with self.datastore.get_connection() as conn:
                yield conn
            return
        try:
            with _as_library_errors():
                if self._writer is None or self._writer.closed or self._writer.broken:
                    self._writer = self._connect()
                yield self._writer
        finally:
            self._writer_lock.release()

    def _connect(self) -> Connection[DictRow]:
        """A connection as the library's pool makes them (autocommit, its session settings)."""
        pool = self.datastore.pool
        kwargs = cast(dict[str, Any], pool.kwargs)
        conn: Connection[DictRow] = Connection.connect(
            **kwargs, connect_timeout=max(1, round(pool.timeout))
        )
        self.datastore.after_connect_func()(conn)
        return conn

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        destroy_personal_keys: Sequence[UUID] = (),
        new_personal_keys: Sequence[tuple[UUID, bytes]] = (),
        **kwargs: Any,
    ) -> None:
        """Keep new humans' keys, and destroy forgotten humans' keys, in the transaction
        that records their events: a key exists exactly when its events do."""
        super()._insert_events(curs, stored_events, **kwargs)
        if new_personal_keys:
            curs.executemany(insert_keys_statement(), list(new_personal_keys))
        if destroy_personal_keys:
            curs.execute(destroy_keys_statement(), (list(destroy_personal_keys),))


def _uuid(value: UUID | str) -> UUID:
    return value if isinstance(value, UUID) else UUID(value)


def _roll_back(conn: Connection[DictRow]) -> None:
    """End the transaction a failed batch left open (nothing to do on a broken connection)."""
    if not conn.broken and conn.info.transaction_status != TransactionStatus.IDLE:
        with contextlib.suppress(psycopg.Error):
            conn.execute(_ROLLBACK)


@contextmanager
def _as_library_errors() -> Iterator[None]:
    try:
        yield
    except psycopg.Error as error:
        for psycopg_error, library_error in _ERRORS:
            if isinstance(error, psycopg_error):
                raise library_error(str(error)) from error
        raise
