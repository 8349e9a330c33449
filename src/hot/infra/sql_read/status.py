"""How far ``hot_read`` is, as seen now from PostgreSQL: for ``hot relay status``."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from hot.infra.relay.leader import lock_holder
from hot.infra.relay.source import EventLog
from hot.infra.sql_read.projector import READ_LOCK
from hot.infra.sql_read.schema import read_position
from hot.tuning import LAG_CAP


@dataclass(frozen=True)
class SqlReadReport:
    """Up to where ``hot_read`` holds every public event, how many come after it, and the
    backend pid of the projector that holds the lock (None: none runs)."""

    position: int
    lag: int
    projector_pid: int | None


def inspect_sql_read(log: EventLog, database_url: str) -> SqlReadReport:
    """Read ``hot_read``'s position, count the public events after it, find the projector."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        position = read_position(conn)
    return SqlReadReport(
        position=position,
        lag=log.count_after(position, LAG_CAP),
        projector_pid=lock_holder(database_url, "", keys=READ_LOCK),
    )
