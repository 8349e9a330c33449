"""The attendance projection, its report, and the ``hot attendance`` command."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner

from hot.application import HumansApplication
from hot.attendance import Attendance, parse_month
from hot.cli import main
from hot.domain import HumanKind
from hot.follow import Feed, PostgresLog, PostgresProjectionStore, ProjectionRunner

from .attendance_model import actual_tables, expected_tables
from .conftest import TODAY, full_log, running, wait_until, write_lives

pytestmark = pytest.mark.postgres


def attendance_runner(app: HumansApplication, database_url: str) -> ProjectionRunner[Any]:
    """The attendance projection on the log of ``app``, its tables in ``database_url``."""
    return ProjectionRunner(
        Attendance(),
        PostgresProjectionStore(database_url),
        Feed(PostgresLog(app)),
        personal=True,
    )


def backdated_memberships(app: HumansApplication) -> None:
    """Joins and leaves recorded after the days they cover were already counted."""
    day = TODAY - timedelta(days=40)
    ann = app.register("Ann", "ann@example.org", HumanKind.EMPLOYEE).id
    app.join(ann, day, "engineer")
    for offset in range(1, 8):
        app.attend(ann, day + timedelta(days=offset))
    bo = app.register("Bo", "bo@example.org", HumanKind.CONTRACTOR).id
    app.join(bo, day - timedelta(days=5), "designer")  # covers every day Ann attended
    app.leave(bo, day + timedelta(days=3), "contract ended")  # not days 4 to 7
    app.join(bo, day + timedelta(days=6), "designer")  # back for days 6 and 7
    app.attend(bo, day + timedelta(days=7))
    app.change_details(bo, name="Bo Renamed")


def test_the_tables_hold_what_the_log_says_and_a_rebuild_agrees(
    app: HumansApplication, database_url: str
) -> None:
    backdated_memberships(app)
    write_lives(app, 6, 12)
    runner = attendance_runner(app, database_url)
    with running(runner):
        wait_until(lambda: runner.position() == app.head(), 20, "caught up")

    expected = expected_tables(full_log(app))
    assert actual_tables(database_url) == expected
    headcounts = [members for _, members in expected["attendance_headcount"]]
    assert {1, 2} <= set(headcounts)  # Bo's backdated periods counted, and not

    assert runner.rebuild() == app.head()
    assert actual_tables(database_url) == expected


def test_report_prints_a_month(app: HumansApplication, database_url: str) -> None:
    backdated_memberships(app)
    runner = attendance_runner(app, database_url)
    runner.rebuild()
    first_day = TODAY - timedelta(days=39)
    month = f"{first_day:%Y-%m}"

    result = CliRunner().invoke(
        main, ["attendance", "--database-url", database_url, "report", "--month", month]
    )

    assert result.exit_code == 0, result.output
    assert f"Attendance in {month}" in result.output
    assert f"{first_day:%Y-%m-%d %a}        1        2    50%" in result.output
    assert "Ann" in result.output


def test_report_refuses_a_month_it_cannot_read(database_url: str) -> None:
    result = CliRunner().invoke(
        main, ["attendance", "--database-url", database_url, "report", "--month", "2026-13"]
    )
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_rebuild_from_the_command_line_shows_progress(
    app: HumansApplication, database_url: str
) -> None:
    write_lives(app, 4, 10)
    env = {"HOT_REDIS_URL": "", "HOT_ATTENDANCE_DATABASE_URL": ""}

    result = CliRunner(env=env).invoke(
        main, ["attendance", "--database-url", database_url, "--rebuild", "--progress"]
    )

    assert result.exit_code == 0, result.output
    assert f"attendance rebuilt up to position {app.head()}." in result.output
    assert f"/ {app.head():,} (100.0%)" in result.output
    assert "events/s" in result.output
    assert actual_tables(database_url) == expected_tables(full_log(app))


def test_months_are_written_year_dash_month() -> None:
    assert parse_month("2026-11").isoformat() == "2026-11-01"
    for wrong in ("2026-1", "2026-00", "26-11", "november"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(wrong)
