"""``HotRecorder``: the ``eventsourcing`` PostgreSQL recorder, writing as HoT needs.

It keeps the library's table and its table lock (so log order is commit order), and
writes a batch of events in one round trip: ``BEGIN``, the personal-data keys, the lock,
one ``INSERT`` of the events as four binary arrays and the ``COMMIT`` go out as one
pipeline. The ``INSERT`` also sends the ``NOTIFY`` (delivered at commit, like the
library's), with the inserted rows as its payload when they fit (see ``NOTICE_LIMIT``):
a listener such as the relay then has them without reading the table, and a process
that keeps what it knows up to date learns which aggregates moved on.

The group committer writes almost all batches (``write``), through a connection of
the datastore's pool held for writing (taken once, so no pool check before each
batch, and given back by ``close`` or when it breaks); a write while it is busy takes
another pooled connection. ``write`` also answers the position of the last event of
some topics before the transaction (the streams' write-through asks for the public
ones), which the ``INSERT`` reads under the table lock. Pages of the log are read
by ``hot.infra.log_pages``.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any
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

from hot.application.idempotency import IdempotencyRecord
from hot.application.personal import PersonalKey
from hot.application.ports import Saved
from hot.domain.event_types import EventTypeDefinition
from hot.infra.idempotency_records import (
    create_records_statement,
    insert_records_statement,
    select_records_statement,
)
from hot.infra.log_pages import PUBLIC
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
base64]``, one per row, in log order. Rows that would not fit are sent without their
states (``[position, originator id, version, topic]``: a listener that needs a state
reads it), and when even those would not fit, the payload is empty and a listener
reads the table."""


class HotRecorder(PostgresApplicationRecorder):
    """The application recorder HoT's composition root selects."""

    def __init__(self, datastore: PostgresDatastore, **kwargs: Any) -> None:
        super().__init__(datastore, **kwargs)
        schema = datastore.schema
        table = SQL("{0}.{1}").format(Identifier(schema), Identifier(self.events_table_name))
        inserting = (
            "WITH inserted AS (INSERT INTO {0} (originator_id, originator_version, topic, state) "
            "SELECT * FROM unnest(%b::uuid[], %b::int8[], %b::text[], %b::bytea[]) "
            "RETURNING notification_id, originator_id, originator_version, topic, state), "
            "noticed AS (SELECT json_agg(json_build_array(notification_id, originator_id, "
            "originator_version, topic, encode(state, 'base64')) ORDER BY notification_id"
            ")::text AS payload FROM inserted), "
            "notice AS (SELECT pg_notify({1}, CASE WHEN octet_length(payload) <= {2} "
            "THEN payload ELSE coalesce((SELECT heads FROM (SELECT json_agg(json_build_array("
            "notification_id, originator_id, originator_version, topic) ORDER BY "
            "notification_id)::text AS heads FROM inserted) AS h "
            "WHERE octet_length(heads) <= {2}), '') END) FROM noticed) "
        )
        parts = (table, Literal(self.channel_name), Literal(NOTICE_LIMIT))
        # The statements run at every commit are rendered once, here: a composed statement
        # is rendered again at each execution (7 us for this one).
        self._insert_and_notify = (
            SQL(inserting + "SELECT notification_id FROM inserted, notice ORDER BY notification_id")
            .format(*parts)
            .as_bytes(None)
        )
        # The statement's snapshot does not see its own rows (and the table lock is held):
        # "before" is the position of the log's last event of the given topics before them.
        self._insert_and_notify_before = (
            SQL(
                inserting + "SELECT notification_id, coalesce((SELECT notification_id FROM {0} "
                f"WHERE {PUBLIC} ORDER BY notification_id DESC LIMIT 1), 0) AS before "
                "FROM inserted, notice ORDER BY notification_id"
            )
            .format(*parts)
            .as_bytes(None)
        )
        # The open catalog's types are found by their registrations (see ``TeamCatalog``):
        # an index of those rows alone, a few, costs nothing to keep.
        self.sql_create_statements.append(
            SQL(
                "CREATE INDEX IF NOT EXISTS {index} ON {0} (notification_id) WHERE topic = {1}"
            ).format(
                table,
                Literal(EventTypeDefinition.Registered.TOPIC),
                index=Identifier(f"{self.events_table_name}_type_registrations"),
            )
        )
        # Idempotency records: a table beside the events, written in their transaction.
        self.sql_create_statements.append(create_records_statement(schema, table))
        self._insert_records = insert_records_statement(schema).as_bytes(None)
        self._select_records = select_records_statement(schema)
        self._writer: Connection[DictRow] | None = None
        self._writer_lock = threading.Lock()

    @retry((persistence.InterfaceError, persistence.OperationalError), max_attempts=10, wait=0.2)
    def write(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        new_personal_keys: Sequence[PersonalKey] = (),
        destroyed_personal_keys: Sequence[UUID] = (),
        idempotency_records: Sequence[IdempotencyRecord] = (),
        public_before: bool = False,
    ) -> Saved:
        """Record ``stored_events`` with the keys and the idempotency records in one
        transaction, one round trip: their log positions, in order, and (if
        ``public_before``) the position of the last public event before them (0 if none,
        or not asked). A version taken, or a record's id, is ``IntegrityError``."""
        with self._connection() as conn:
            try:
                # BEGIN and COMMIT as statements of the pipeline: psycopg's transaction()
                # would cost a synchronisation of its own.
                with conn.pipeline(), conn.cursor() as curs:
                    curs.execute(_BEGIN)
                    self._insert_events(
                        curs,
                        stored_events,
                        new_personal_keys=new_personal_keys,
                        destroy_personal_keys=destroyed_personal_keys,
                        idempotency_records=idempotency_records,
                    )
                    self._lock_table(curs)
                    inserting = conn.cursor(binary=True)
                    self._insert_notifying(inserting, stored_events, public_before)
                    curs.execute(_COMMIT)
            except BaseException:
                _roll_back(conn)
                raise
            inserted = inserting.fetchall()
        before = int(inserted[0].get("before") or 0) if inserted else 0
        return Saved([int(row["notification_id"]) for row in inserted], before)

    def idempotency_records(self, record_ids: Sequence[UUID]) -> dict[UUID, IdempotencyRecord]:
        """The idempotency records kept under ``record_ids``, by id."""
        with self.datastore.get_connection() as conn, _as_library_errors():
            rows = conn.execute(self._select_records, (list(record_ids),)).fetchall()
        return {
            row["id"]: IdempotencyRecord(
                row["id"], row["fingerprint"], row["human_id"], row["human_version"]
            )
            for row in rows
        }

    def insert_events(self, stored_events: Sequence[StoredEvent], **kwargs: Any) -> Sequence[int]:
        """The library's way in (``Application.save``): ``write``, no position asked."""
        saved: Saved = self.write(
            stored_events,
            new_personal_keys=kwargs.get("new_personal_keys", ()),
            destroyed_personal_keys=kwargs.get("destroy_personal_keys", ()),
        )
        return saved.positions

    def _insert_stored_events(
        self, curs: Cursor[DictRow], stored_events: Sequence[StoredEvent], **kwargs: Any
    ) -> None:
        """Lock the table, insert the events and notify the channel with their rows, in
        the transaction of ``curs``; their positions are its result (``fetchall``)."""
        self._lock_table(curs)
        self._insert_notifying(curs, stored_events, False)

    def _insert_notifying(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        public_before: bool,
    ) -> None:
        """The INSERT; its result rows have the positions, and "before" if
        ``public_before``."""
        params: list[Any] = [
            [e.originator_id for e in stored_events],
            [e.originator_version for e in stored_events],
            [e.topic for e in stored_events],
            [e.state for e in stored_events],
        ]
        statement = self._insert_and_notify
        if public_before:
            statement = self._insert_and_notify_before
        curs.execute(statement, params, prepare=True)

    def close(self) -> None:
        """Give the connection held for writing back to the datastore's pool."""
        with self._writer_lock:
            writer, self._writer = self._writer, None
            if writer is not None:
                self.datastore.pool.putconn(writer)

    @contextmanager
    def _connection(self) -> Iterator[Connection[DictRow]]:
        """The connection held for writing if it is free, else another from the pool;
        psycopg's errors raised as the library's."""
        if not self._writer_lock.acquire(blocking=False):
            with self.datastore.get_connection() as conn:
                yield conn
            return
        try:
            with _as_library_errors():
                yield self._held_writer()
        finally:
            self._writer_lock.release()

    def _held_writer(self) -> Connection[DictRow]:
        """The pool's connection the committer writes on, taken once and held, so that
        no batch pays the pool's check; one that broke goes back (the pool drops it)
        and another is taken. Called with the writer's lock held."""
        pool = self.datastore.pool
        writer = self._writer
        if writer is not None and (writer.closed or writer.broken):
            self._writer = None
            pool.putconn(writer)
            writer = None
        if writer is None:
            pool.open()  # as the library's get_connection does (nothing if open already)
            writer = self._writer = pool.getconn()
        return writer

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        destroy_personal_keys: Sequence[UUID] = (),
        new_personal_keys: Sequence[PersonalKey] = (),
        idempotency_records: Sequence[IdempotencyRecord] = (),
        **kwargs: Any,
    ) -> None:
        """Keep new humans' keys, destroy forgotten humans' keys and keep the requests'
        idempotency records, in the transaction that records their events: a key, or a
        record, exists exactly when its events do."""
        super()._insert_events(curs, stored_events, **kwargs)
        if new_personal_keys:
            curs.executemany(insert_keys_statement(), list(new_personal_keys))
        if destroy_personal_keys:
            curs.execute(destroy_keys_statement(), (list(destroy_personal_keys),))
        if idempotency_records:
            records = idempotency_records
            params = (
                [r.id for r in records],
                [r.fingerprint for r in records],
                [r.human_id for r in records],
                [r.human_version for r in records],
            )
            curs.connection.cursor(binary=True).execute(self._insert_records, params, prepare=True)


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
