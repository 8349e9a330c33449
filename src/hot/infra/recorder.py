"""``HotRecorder``: the ``eventsourcing`` PostgreSQL recorder, plus reads HoT needs.

It keeps the library's insert (with its table lock, so log order is commit order)
and adds a read of one human's events together with their log positions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg import Cursor
from psycopg.rows import DictRow
from psycopg.sql import SQL, Identifier

from hot.infra.personal_keys import destroy_keys_statement, insert_keys_statement


class HotRecorder(PostgresApplicationRecorder):
    """The application recorder HoT's composition root selects."""

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

    def select_history(self, originator_id: UUID, after: int, limit: int) -> Sequence[Notification]:
        statement = SQL(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM {schema}.{table} WHERE originator_id = %s AND originator_version > %s "
            "ORDER BY originator_version LIMIT %s"
        ).format(
            schema=Identifier(self.datastore.schema),
            table=Identifier(self.events_table_name),
        )
        with self.datastore.get_connection() as conn, conn.cursor() as curs:
            curs.execute(statement, (originator_id, after, limit), prepare=True)
            return [
                Notification(
                    id=row["notification_id"],
                    originator_id=row["originator_id"],
                    originator_version=row["originator_version"],
                    topic=row["topic"],
                    state=bytes(row["state"]),
                )
                for row in curs.fetchall()
            ]
