"""The attendance example: a projection that is useful on its own, built with ``hot_follow``.

It follows HoT as another team's app would: its modules import nothing of HoT but the
light package ``hot_follow`` (and psycopg for its own tables). Only its command,
``hot attendance``, is HoT's: it reads HoT's own tables (``PostgresLog``), to keep names.

``hot attendance`` keeps it current, ``hot attendance --rebuild`` rebuilds it, and
``hot attendance report --month 2026-11`` prints a month, ``hot attendance status``
where the projection stands (stuck, skips).
"""

from hot.attendance.projection import TABLES, VIEWS, Attendance
from hot.attendance.report import (
    DayRow,
    HumanRow,
    InvalidMonthError,
    MonthReport,
    month_report,
    parse_month,
)
from hot.attendance.text import SKIP_COMMAND, render_month, render_status, stuck_warning

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
