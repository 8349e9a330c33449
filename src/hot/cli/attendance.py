"""``hot attendance``: keep the attendance projection current, rebuild it, or report a month.

hot attendance                        catch up, then follow (until SIGTERM or Ctrl-C)
hot attendance --rebuild              rebuild from the whole log, with a progress bar
hot attendance report --month 2026-11 print a month's attendance
"""

from __future__ import annotations

import signal
from datetime import date
from types import FrameType
from typing import Any

import click
import psycopg

from hot.attendance import (
    Attendance,
    InvalidMonthError,
    MonthReport,
    month_report,
    parse_month,
)
from hot.cli.runtime import tune_runtime
from hot.follow import PostgresProjectionStore, Progress, ProjectionRunner
from hot.follow.configured import configured_feed
from hot.follow.progress import wanted
from hot.infra.settings import Settings


@click.group(invoke_without_command=True)
@click.option("--database-url", help="HoT's database (default: HOT_DATABASE_URL, or embedded).")
@click.option(
    "--attendance-database-url",
    envvar="HOT_ATTENDANCE_DATABASE_URL",
    help="Where the attendance tables live (default: HoT's database).",
)
@click.option("--rebuild", is_flag=True, help="Rebuild the tables from the whole log, then exit.")
@click.option(
    "--progress/--no-progress", default=None, help="Show progress (default: on a terminal)."
)
@click.pass_context
def attendance(
    ctx: click.Context,
    database_url: str | None,
    attendance_database_url: str | None,
    rebuild: bool,
    progress: bool | None,
) -> None:
    """Keep the attendance tables current: catch up with the log, then follow it."""
    ctx.obj = {"database_url": database_url, "attendance_database_url": attendance_database_url}
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings.from_env()
    with configured_feed(settings, database_url) as (feed, hot_url):
        store = PostgresProjectionStore(attendance_database_url or hot_url)
        # Names are personal data: the attendance tables keep them, so it reads them.
        runner = ProjectionRunner(Attendance(), store, feed, personal=True)
        tune_runtime()
        try:
            if rebuild:
                _rebuild(runner, progress)
            else:
                _follow(runner)
        finally:
            store.close()


def _rebuild(runner: ProjectionRunner[Any], progress: bool | None) -> None:
    head = runner.feed.head(runner.projection.names)
    bar = Progress("attendance", head) if wanted(progress) else None
    position = runner.rebuild(on_batch=bar)
    if bar is not None:
        bar.finish()
    click.echo(f"attendance rebuilt up to position {position}.")


def _follow(runner: ProjectionRunner[Any]) -> None:
    def stop(signum: int, frame: FrameType | None) -> None:
        runner.stop()  # the batch in flight is committed first

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"attendance: following from position {runner.position()}.", err=True)
    runner.run()


@attendance.command()
@click.option("--month", required=True, help="The month, written YYYY-MM (e.g. 2026-11).")
@click.pass_context
def report(ctx: click.Context, month: str) -> None:
    """Print a month: each day's attendance and headcount of members, and each human's days."""
    try:
        first = parse_month(month)
    except InvalidMonthError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    options = ctx.obj or {}
    url = options.get("attendance_database_url") or options.get("database_url")
    if url is not None:
        _print_report(url, first)
        return
    with configured_feed(Settings.from_env()) as (_, hot_url):  # HoT's own, maybe embedded
        _print_report(hot_url, first)


def _print_report(url: str, first: date) -> None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('attendance_headcount')").fetchone()
        if row is None or row[0] is None:
            raise click.ClickException("No attendance tables yet: run `hot attendance` first.")
        click.echo(render(month_report(conn, first)))


def render(found: MonthReport) -> str:
    """The report as a table a person reads."""
    title = f"Attendance in {found.month:%Y-%m}"
    lines = [title, "=" * len(title), ""]
    if not found.days:
        return "\n".join([*lines, "Nobody attended this month."])
    lines.append(f"{'Day':<14}{'Attended':>9}{'Members':>9}{'Rate':>7}")
    for row in found.days:
        rate = f"{100 * row.attended / row.members:.0f}%" if row.members else "-"
        lines.append(f"{row.day:%Y-%m-%d %a}{row.attended:>9}{row.members:>9}{rate:>7}")
    total = sum(r.attended for r in found.days)
    lines += ["", f"{len(found.days)} days, {total} attendances.", ""]
    width = max(len("Human"), *(len(h.name) for h in found.humans))
    lines.append(f"{'Human':<{width}}  {'Days':>4}")
    lines += [f"{h.name:<{width}}  {h.days:>4}" for h in found.humans]
    return "\n".join(lines)
