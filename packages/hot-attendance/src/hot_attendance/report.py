"""The attendance of one month, read from the projection's tables."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

import psycopg


class InvalidMonthError(ValueError):
    """A month that is not written ``YYYY-MM`` (e.g. ``2026-11``)."""


def parse_month(text: str) -> date:
    """The first day of the month written ``YYYY-MM``."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if match is None or not 1 <= int(match[2]) <= 12:
        raise InvalidMonthError(f"A month is written YYYY-MM (e.g. 2026-11), not {text!r}.")
    return date(int(match[1]), int(match[2]), 1)


@dataclass(frozen=True)
class DayRow:
    day: date
    attended: int
    members: int  # humans whose membership covered the day


@dataclass(frozen=True)
class HumanRow:
    human_id: UUID
    name: str
    days: int


@dataclass(frozen=True)
class MonthReport:
    """Each day of ``month`` that someone attended, and each human's days in it."""

    month: date
    days: tuple[DayRow, ...]
    humans: tuple[HumanRow, ...]


def month_report(conn: psycopg.Connection[tuple[Any, ...]], month: date) -> MonthReport:
    """The report for ``month`` (its first day), from the tables of ``Attendance``."""
    days = conn.execute(
        "SELECT day, attended, members FROM attendance_daily "
        "WHERE day >= %s AND day < %s::date + interval '1 month' ORDER BY day",
        (month, month),
    ).fetchall()
    humans = conn.execute(
        "SELECT m.human_id, coalesce(h.name, ''), m.days FROM attendance_monthly m "
        "LEFT JOIN attendance_humans h USING (human_id) "
        "WHERE m.month = %s ORDER BY m.days DESC, h.name",
        (month,),
    ).fetchall()
    return MonthReport(
        month,
        tuple(DayRow(*row) for row in days),
        tuple(HumanRow(*row) for row in humans),
    )
