"""``Attendance``: who attended each day, the headcount of members that day, days per month.

Tables (PostgreSQL, created by ``setup``):

- ``attendance_humans(human_id, name)``: names, for reports (kept current on renames;
  ``"(forgotten)"`` once HoT forgets the human);
- ``attendance_memberships(human_id, joined_on, left_on, role)``: membership periods;
- ``attendance_days(day, human_id)``: who attended which day;
- ``attendance_monthly(human_id, month, days)``: days attended per human and month;

and views over them:

- ``attendance_days_named(day, human_id, name)``: who attended, with names;
- ``attendance_headcount(day, members)``: for each day someone attended, how many
  humans were members that day (their membership covers it: from ``joined_on`` to
  ``left_on`` inclusive, or open);
- ``attendance_daily(day, attended, members)``: the two counts side by side.

Memberships are often recorded late (backdated joins and leaves), so a headcount
stored per day would need correcting for every day a late join covers; counted from
the membership periods when read, it is always right, and no row is ever updated
over and over (a rebuild, one transaction, would pile up versions of it).

A name is the only personal data these tables hold, and only when read over the API
with a ``personal`` token (from ``hot_read`` it is ``"(personal)"``): forgetting a human
replaces it with ``"(forgotten)"`` and keeps their memberships and days, so every count
stays.
"""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

import psycopg

from hot_follow import FORGOTTEN, Projection, RecordedEvent, handles

Tx = psycopg.Connection[tuple[Any, ...]]

TABLES = (
    "attendance_humans",
    "attendance_memberships",
    "attendance_days",
    "attendance_monthly",
)
VIEWS = ("attendance_days_named", "attendance_headcount", "attendance_daily")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS attendance_humans (
    human_id uuid PRIMARY KEY,
    name text NOT NULL
);
CREATE TABLE IF NOT EXISTS attendance_memberships (
    human_id uuid NOT NULL,
    joined_on date NOT NULL,
    left_on date,
    role text NOT NULL,
    PRIMARY KEY (human_id, joined_on)
);
CREATE INDEX IF NOT EXISTS attendance_memberships_joined_on
    ON attendance_memberships (joined_on);
CREATE TABLE IF NOT EXISTS attendance_days (
    day date NOT NULL,
    human_id uuid NOT NULL,
    PRIMARY KEY (day, human_id)
);
CREATE TABLE IF NOT EXISTS attendance_monthly (
    human_id uuid NOT NULL,
    month date NOT NULL,
    days integer NOT NULL,
    PRIMARY KEY (human_id, month)
);
CREATE OR REPLACE VIEW attendance_days_named AS
    SELECT d.day, d.human_id, h.name
    FROM attendance_days d JOIN attendance_humans h USING (human_id);
CREATE OR REPLACE VIEW attendance_headcount AS
    SELECT d.day, count(*)::integer AS members
    FROM (SELECT DISTINCT day FROM attendance_days) d
    JOIN attendance_memberships m
        ON m.joined_on <= d.day AND (m.left_on IS NULL OR m.left_on >= d.day)
    GROUP BY d.day;
CREATE OR REPLACE VIEW attendance_daily AS
    SELECT a.day, a.attended, h.members
    FROM (SELECT day, count(*)::integer AS attended FROM attendance_days GROUP BY day) a
    JOIN attendance_headcount h USING (day);
"""

_ATTENDED = """
INSERT INTO attendance_days (day, human_id)
SELECT * FROM unnest(%(days)s::date[], %(humans)s::uuid[])
"""

_COUNT_MONTHS = """
INSERT INTO attendance_monthly (human_id, month, days)
SELECT human_id, date_trunc('month', day)::date, count(*)
FROM unnest(%(days)s::date[], %(humans)s::uuid[]) AS attended(day, human_id)
GROUP BY 1, 2
ON CONFLICT (human_id, month) DO UPDATE SET days = attendance_monthly.days + EXCLUDED.days
"""


def _day(event: RecordedEvent) -> date:
    return date.fromisoformat(event.payload["on"])


class Attendance(Projection[Tx]):
    """The attendance projection, in the PostgreSQL database of its store."""

    name = "attendance"

    def setup(self, tx: Tx) -> None:
        for statement in _SCHEMA.split(";"):
            if statement.strip():
                tx.execute(statement)

    def clear(self, tx: Tx) -> None:
        # DELETE, not TRUNCATE: readers keep seeing the old rows until the rebuild commits.
        for table in TABLES:
            tx.execute(f"DELETE FROM {table}")

    def forget(self, human_id: UUID, tx: Tx) -> None:
        tx.execute(
            "UPDATE attendance_humans SET name = %s WHERE human_id = %s", (FORGOTTEN, human_id)
        )

    @handles("HUMAN_REGISTERED")
    def registered(self, event: RecordedEvent, tx: Tx) -> None:
        tx.execute(
            "INSERT INTO attendance_humans (human_id, name) VALUES (%s, %s)",
            (event.subject, event.payload["name"]),
        )

    @handles("HUMAN_DETAILS_CHANGED")
    def details_changed(self, event: RecordedEvent, tx: Tx) -> None:
        if event.payload.get("name") is not None:
            tx.execute(
                "UPDATE attendance_humans SET name = %s WHERE human_id = %s",
                (event.payload["name"], event.subject),
            )

    @handles("HUMAN_JOINED")
    def joined(self, event: RecordedEvent, tx: Tx) -> None:
        tx.execute(
            "INSERT INTO attendance_memberships (human_id, joined_on, role) VALUES (%s, %s, %s)",
            (event.subject, _day(event), event.payload["role"]),
        )

    @handles("HUMAN_LEFT")
    def left(self, event: RecordedEvent, tx: Tx) -> None:
        tx.execute(  # ``on`` is the membership's last day
            "UPDATE attendance_memberships SET left_on = %s "
            "WHERE human_id = %s AND left_on IS NULL",
            (_day(event), event.subject),
        )

    @handles("HUMAN_ATTENDED", batch=True)
    def attended(self, events: list[RecordedEvent], tx: Tx) -> None:
        # A run of attendances: two set-wise statements for all of them.
        days = {"days": [_day(e) for e in events], "humans": [e.subject for e in events]}
        tx.execute(_ATTENDED, days)
        tx.execute(_COUNT_MONTHS, days)
