"""``hot attendance``: keep the attendance projection current, rebuild it, or report a month.

hot attendance                        catch up, then follow (until SIGTERM or Ctrl-C)
hot attendance --metrics-port 9101    the same, with its Prometheus metrics on that port
hot attendance --rebuild              rebuild from the whole log, with a progress bar
hot attendance --skip-position N --reason TEXT [--by NAME]
                                      never apply the event at N (recorded: who, why)
hot attendance status                 its position, where it is stuck, the skips
hot attendance report --month 2026-11 print a month's attendance (warning if stuck)
"""

from __future__ import annotations

import contextlib
import getpass
import signal
from collections.abc import Iterator
from datetime import date
from types import FrameType
from typing import Any

import click
import psycopg

from hot.attendance import (
    SKIP_COMMAND,
    Attendance,
    InvalidMonthError,
    month_report,
    parse_month,
    render_month,
    render_status,
    stuck_warning,
)
from hot.cli.runtime import tune_runtime
from hot.infra.configured_feed import configured_feed
from hot.infra.projection_metrics import ProjectionMetrics
from hot.infra.settings import Settings
from hot_follow import (
    PostgresProjectionStore,
    Progress,
    ProjectionRunner,
    RebuildFailedError,
    SkipRefusedError,
)
from hot_follow.progress import wanted
from hot_follow.standing import read_status, skip_position


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
@click.option(
    "--skip-position",
    type=int,
    metavar="N",
    help="Never apply the event at position N (one it is stuck at), then exit; needs --reason.",
)
@click.option("--reason", help="Why --skip-position skips the event (it is recorded).")
@click.option("--by", help="Who skips it (recorded; default: your user name).")
@click.option(
    "--metrics-port",
    type=int,
    metavar="PORT",
    help="Serve its Prometheus metrics on this port of HOT_HOST while it follows.",
)
@click.pass_context
def attendance(
    ctx: click.Context,
    database_url: str | None,
    attendance_database_url: str | None,
    rebuild: bool,
    progress: bool | None,
    skip_position: int | None,
    reason: str | None,
    by: str | None,
    metrics_port: int | None,
) -> None:
    """Keep the attendance tables current: catch up with the log, then follow it."""
    ctx.obj = {"database_url": database_url, "attendance_database_url": attendance_database_url}
    skipping = skip_position is not None or reason is not None or by is not None
    if skipping and (ctx.invoked_subcommand is not None or rebuild):
        raise click.UsageError(
            "--skip-position, --reason and --by go alone (no --rebuild, no command)."
        )
    if ctx.invoked_subcommand is not None:
        return
    if skipping:
        _skip(ctx.obj, skip_position, reason, by)
        return
    settings = Settings.from_env()
    with configured_feed(settings, database_url) as (feed, hot_url):
        store = PostgresProjectionStore(attendance_database_url or hot_url)
        # Names are personal data: the attendance tables keep them, so it reads them.
        projection = Attendance()
        metrics = None
        if metrics_port is not None and not rebuild:
            metrics = ProjectionMetrics(projection.name, lambda: feed.head(projection.names))
        runner = ProjectionRunner(
            projection, store, feed, personal=True, skip_command=SKIP_COMMAND, meter=metrics
        )
        tune_runtime()
        with contextlib.ExitStack() as stack:
            stack.callback(store.close)
            if metrics is not None and metrics_port is not None:
                stack.callback(metrics.serve(metrics_port, settings.host))
            if rebuild:
                _rebuild(runner, progress)
            else:
                _follow(runner)


def _rebuild(runner: ProjectionRunner[Any], progress: bool | None) -> None:
    head = runner.feed.head(runner.projection.names)
    bar = Progress("attendance", head) if wanted(progress) else None
    try:
        position = runner.rebuild(on_batch=bar)
    except RebuildFailedError as failed:
        raise click.ClickException(str(failed)) from None
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


def _skip(
    options: dict[str, Any], position: int | None, reason: str | None, by: str | None
) -> None:
    if position is None:
        raise click.UsageError("--reason and --by go with --skip-position N.")
    if not reason:
        raise click.UsageError("--skip-position needs --reason TEXT: why it is skipped.")
    with _attendance_store(options) as store:
        try:
            skip = skip_position(store, Attendance.name, position, by=by or _user(), reason=reason)
        except SkipRefusedError as refused:
            raise click.ClickException(str(refused)) from None
    click.echo(
        f"attendance: position {skip.position} skipped by {skip.skipped_by}, recorded: "
        f"{skip.reason}"
    )


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login name, nor a user database entry
        raise click.UsageError("Cannot tell who you are: say it with --by NAME.") from None


@contextlib.contextmanager
def _attendance_url(options: dict[str, Any]) -> Iterator[str]:
    """The database of the attendance tables: as given, else HoT's own (maybe embedded)."""
    url = options.get("attendance_database_url") or options.get("database_url")
    if url is not None:
        yield url
        return
    with configured_feed(Settings.from_env()) as (_, hot_url):
        yield hot_url


@contextlib.contextmanager
def _attendance_store(options: dict[str, Any]) -> Iterator[PostgresProjectionStore]:
    with _attendance_url(options) as url, contextlib.closing(PostgresProjectionStore(url)) as store:
        yield store


@attendance.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Print the position, where it is stuck and why, and the positions skipped."""
    with _attendance_store(ctx.obj or {}) as store:
        click.echo(render_status(read_status(store, Attendance.name)))


@attendance.command()
@click.option("--month", required=True, help="The month, written YYYY-MM (e.g. 2026-11).")
@click.pass_context
def report(ctx: click.Context, month: str) -> None:
    """Print a month: each day's attendance and headcount of members, and each human's days."""
    try:
        first = parse_month(month)
    except InvalidMonthError as error:
        raise click.BadParameter(str(error), param_hint="--month") from None
    with _attendance_url(ctx.obj or {}) as url:
        _print_report(url, first)


def _print_report(url: str, first: date) -> None:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT to_regclass('attendance_headcount')").fetchone()
        if row is None or row[0] is None:
            raise click.ClickException("No attendance tables yet: run `hot attendance` first.")
        found = month_report(conn, first)
    with contextlib.closing(PostgresProjectionStore(url)) as store:
        stuck = read_status(store, Attendance.name).stuck
    if stuck is not None:  # the report may lack every event from there on
        click.echo(stuck_warning(stuck), err=True)
    click.echo(render_month(found))
