"""The attendance example: a projection that is useful on its own, built with ``hot.follow``.

``hot attendance`` keeps it current, ``hot attendance --rebuild`` rebuilds it, and
``hot attendance report --month 2026-11`` prints a month.
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

__all__ = [
    "TABLES",
    "VIEWS",
    "Attendance",
    "DayRow",
    "HumanRow",
    "InvalidMonthError",
    "MonthReport",
    "month_report",
    "parse_month",
]
