"""``hot-attendance status`` and ``hot-attendance report``: they read its own database only."""

from __future__ import annotations

import contextlib
from datetime import date

import click
import psycopg

from hot_attendance.projection import Attendance
from hot_attendance.report import InvalidMonthError, month_report, parse_month
from hot_attendance.text import render_month, render_status, stuck_warning
from hot_follow import PostgresProjectionStore
from hot_follow.standing import read_status


@click.command()
@click.pass_obj
def status(url: str) -> None:
    """Print the position, where it is stuck and why, and the positions skipped."""
    with contextlib.closing(PostgresProjectionStore(url)) as store:
        click.echo(render_status(read_status(store, Attendance.name)))


@click.command()
@click.option("--month", required=True, help="The month, written YYYY-MM (e.g. 2026-11).")
@click.pass_obj
def report(url: str, month: str) -> None:
    """Print a month: each day's attendance and headcount of members, and each human's days."""
    try:
        first = parse_month(month)
    except InvalidMonthError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    _print_report(url, first)


def _print_report(url: str, first: date) -> None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('attendance_headcount')").fetchone()
        if row is None or row[0] is None:
            raise click.ClickException("No attendance tables yet: run `hot-attendance` first.")
        found = month_report(conn, first)
    with contextlib.closing(PostgresProjectionStore(url)) as store:
        stuck = read_status(store, Attendance.name).stuck
    if stuck is not None:  # the report may lack every event from there on
        click.echo(stuck_warning(stuck), err=True)
    click.echo(render_month(found))
