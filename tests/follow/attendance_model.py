"""What the attendance tables must hold, computed in Python straight from the log.

An independent reference for the projection: it reads the final memberships, so a
headcount that the projection failed to correct after a backdated join or leave
shows up as a difference.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from uuid import UUID

import psycopg

from hot.application import RecordedEvent
from hot.domain import FORGOTTEN
from hot_attendance import TABLES, VIEWS

Tables = dict[str, list[tuple[Any, ...]]]


def expected_tables(log: list[RecordedEvent]) -> Tables:
    names: dict[UUID, str] = {}
    memberships: dict[UUID, list[list[Any]]] = {}
    days: set[tuple[date, UUID]] = set()
    for event in log:
        payload, who = event.payload, event.subject
        renamed = event.name == "HUMAN_DETAILS_CHANGED" and payload["name"] is not None
        if event.name == "HUMAN_REGISTERED" or renamed:
            names[who] = payload["name"]
        elif event.name == "HUMAN_JOINED":
            memberships.setdefault(who, []).append(
                [date.fromisoformat(payload["on"]), None, payload["role"]]
            )
        elif event.name == "HUMAN_LEFT":
            memberships[who][-1][1] = date.fromisoformat(payload["on"])
        elif event.name == "HUMAN_ATTENDED":
            days.add((date.fromisoformat(payload["on"]), who))
        elif event.name == "HUMAN_FORGOTTEN":
            names[who] = FORGOTTEN  # their earlier events read so too, once forgotten

    def members(day: date) -> int:
        return sum(
            any(j <= day and (left is None or day <= left) for j, left, _ in periods)
            for periods in memberships.values()
        )

    monthly = Counter((who, day.replace(day=1)) for day, who in days)
    attended = Counter(day for day, _ in days)
    return {
        "attendance_humans": sorted(names.items()),
        "attendance_memberships": sorted(
            (who, *period) for who, periods in memberships.items() for period in periods
        ),
        "attendance_days": sorted(days),
        "attendance_headcount": sorted((d, members(d)) for d in attended),
        "attendance_monthly": sorted((who, month, n) for (who, month), n in monthly.items()),
        "attendance_daily": sorted((d, n, members(d)) for d, n in attended.items()),
        "attendance_days_named": sorted((day, who, names[who]) for day, who in days),
    }


def actual_tables(database_url: str) -> Tables:
    """The rows of every attendance table and view, sorted."""
    with psycopg.connect(database_url) as conn:
        return {
            table: sorted(tuple(row) for row in conn.execute(f"SELECT * FROM {table}"))
            for table in (*TABLES, *VIEWS)
        }


def stored_position(database_url: str) -> int:
    """The attendance projection's stored position in ``database_url``."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(
            "SELECT position FROM hot_projection_positions WHERE name = 'attendance'"
        ).fetchone()
    return int(row[0]) if row else 0
