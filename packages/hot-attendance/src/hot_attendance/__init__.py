"""Attendance: who attended each day, the headcount of members, days per month.

An app of its own that follows HoT as another team's would: it reads HoT only through
its public contracts, with ``hot_follow`` (``hot_read`` with a SQL reader's role, or
the HTTP API with a token), and keeps its tables in a database of its own.

``hot-attendance`` keeps it current, ``hot-attendance --rebuild`` rebuilds it,
``hot-attendance report --month 2026-11`` prints a month and ``hot-attendance status``
where the projection stands (stuck, skips).
"""

from hot_attendance.projection import TABLES, VIEWS, Attendance
from hot_attendance.report import (
    DayRow,
    HumanRow,
    InvalidMonthError,
    MonthReport,
    month_report,
    parse_month,
)
from hot_attendance.text import SKIP_COMMAND, render_month, render_status, stuck_warning

__all__ = [
    "SKIP_COMMAND",
    "TABLES",
    "VIEWS",
    "Attendance",
    "DayRow",
    "HumanRow",
    "InvalidMonthError",
    "MonthReport",
    "month_report",
    "parse_month",
    "render_month",
    "render_status",
    "stuck_warning",
]
