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

from hot.infra.personal_keys import destroy_keys_statement


class HotRecorder(PostgresApplicationRecorder):
    """The application recorder HoT's composition root selects."""

    def _insert_events(
        self,
        curs: Cursor[DictRow],
        stored_events: Sequence[StoredEvent],
        *,
        destroy_personal_keys: Sequence[UUID] = (),
        **kwargs: Any,
    ) -> None:
        """Destroy forgotten humans' keys in the transaction that records the forgetting."""
        super()._insert_events(curs, stored_events, **kwargs)
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
