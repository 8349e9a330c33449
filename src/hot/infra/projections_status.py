"""The followers' projections whose positions are kept in HoT's own database, as seen
now from PostgreSQL: for ``hot status``.

A projection run with ``hot_follow``'s PostgreSQL store keeps its position in
``hot_projection_positions`` and, while a handler fails, where it is stuck in
``hot_projection_stuck`` (``hot-attendance`` does, in the database its
``--attendance-database-url`` names). A projection kept in a database of its own, not
HoT's, is not seen here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import psycopg

from hot.infra.relay.source import EventLog
from hot.tuning import LAG_CAP
from hot_follow.sql_store import POSITIONS_TABLE, STUCK_TABLE
from hot_follow.standing import Stuck


@dataclass(frozen=True)
class ProjectionReport:
    """A projection: its position, the public events after it (at most ``LAG_CAP``
    counted), when its position last moved, and where it is stuck (None: it is not)."""

    name: str
    position: int
    lag: int
    updated_at: datetime
    stuck: Stuck | None


def inspect_projections(log: EventLog, database_url: str) -> list[ProjectionReport]:
    """Every projection of this database, by name; none if no projection ever ran here."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        found = conn.execute("SELECT to_regclass(%s)", (POSITIONS_TABLE,)).fetchone()
        if found is None or found[0] is None:
            return []
        rows = conn.execute(
            f"SELECT p.name, p.position, p.updated_at, s.position, s.event_name, s.error, s.since "
            f"FROM {POSITIONS_TABLE} p LEFT JOIN {STUCK_TABLE} s USING (name) ORDER BY p.name"
        ).fetchall()
    return [
        ProjectionReport(
            name=name,
            position=int(position),
            lag=log.count_after(int(position), LAG_CAP),
            updated_at=updated_at,
            stuck=None if stuck_at is None else Stuck(int(stuck_at), event_name, error, since),
        )
        for name, position, updated_at, stuck_at, event_name, error, since in rows
    ]
