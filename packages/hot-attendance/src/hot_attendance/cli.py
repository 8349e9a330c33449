"""``hot-attendance``: keep the attendance tables current, rebuild them, or report a month.

hot-attendance                        catch up, then follow (until SIGTERM or Ctrl-C)
hot-attendance --metrics-port 9101    the same, with its Prometheus metrics on that port
hot-attendance --rebuild              rebuild from the whole log, with a progress bar
hot-attendance --skip-position N --reason TEXT [--by NAME]
                                      never apply the event at N (recorded: who, why)
hot-attendance status                 its position, where it is stuck, the skips
hot-attendance report --month 2026-11 print a month's attendance (warning if stuck)

Its tables live in ``--attendance-database-url``. Following and rebuilding read HoT
through ``hot_follow``: ``hot_read`` with ``--read-url`` (names read ``(personal)``), or
the API with ``--api-url`` and ``--token`` (names shown if the token has ``personal``).
"""

from __future__ import annotations

import contextlib
import getpass
import signal
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click

from hot_attendance.projection import Attendance
from hot_attendance.reading import report, status
from hot_attendance.text import SKIP_COMMAND
from hot_follow import (
    Feed,
    PostgresProjectionStore,
    Progress,
    ProjectionRunner,
    RebuildFailedError,
    SkipRefusedError,
)
from hot_follow.progress import wanted
from hot_follow.standing import skip_position


@click.group(invoke_without_command=True)
@click.option(
    "--attendance-database-url",
    envvar="HOT_ATTENDANCE_DATABASE_URL",
    required=True,
    help="The PostgreSQL database of its tables and position (HOT_ATTENDANCE_DATABASE_URL).",
)
@click.option(
    "--read-url",
    envvar="HOT_READ_URL",
    help="Read hot_read: a SQL reader's URL, from `hot sql-access create` (HOT_READ_URL).",
)
@click.option("--api-url", envvar="HOT_API_URL", help="Or read HoT's API (HOT_API_URL).")
@click.option(
    "--token", envvar="HOT_TOKEN", help="The API token: scope read, personal for names (HOT_TOKEN)."
)
@click.option("--redis-url", envvar="HOT_REDIS_URL", help="Follow the relay's Redis live.")
@click.option("--prefix", envvar="HOT_REDIS_PREFIX", default="hot", help="The relay's prefix.")
@click.option(
    "--redis-cluster/--no-redis-cluster",
    envvar="HOT_REDIS_CLUSTER",
    default=False,
    help="--redis-url names a node of a Redis Cluster.",
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
    help="Serve its Prometheus metrics on this port while it follows.",
)
@click.option("--metrics-host", default="127.0.0.1", help="The address of --metrics-port.")
@click.pass_context
def attendance(ctx: click.Context, /, attendance_database_url: str, **options: Any) -> None:
    """Keep the attendance tables current: catch up with HoT's log, then follow it."""
    ctx.obj = attendance_database_url
    skipping = any(options[o] is not None for o in ("skip_position", "reason", "by"))
    if skipping and (ctx.invoked_subcommand is not None or options["rebuild"]):
        raise click.UsageError(
            "--skip-position, --reason and --by go alone (no --rebuild, no command)."
        )
    if ctx.invoked_subcommand is not None:
        return
    if skipping:
        _skip(attendance_database_url, options["skip_position"], options["reason"], options["by"])
        return
    feed = _feed(options)
    projection = Attendance()
    meter = None
    if options["metrics_port"] is not None and not options["rebuild"]:
        from hot_attendance.metrics import ProjectionMetrics  # prometheus, only when asked

        meter = ProjectionMetrics(projection.name, lambda: feed.head(projection.names))
    with contextlib.ExitStack() as stack:
        stack.callback(feed.close)
        store = PostgresProjectionStore(attendance_database_url)
        stack.callback(store.close)
        # Names are personal: only the API shows them (to a token with ``personal``).
        personal = options["api_url"] is not None
        runner = ProjectionRunner(
            projection, store, feed, personal=personal, skip_command=SKIP_COMMAND, meter=meter
        )
        if meter is not None:
            stack.callback(meter.serve(options["metrics_port"], options["metrics_host"]))
        if options["rebuild"]:
            _rebuild(runner, options["progress"])
        else:
            _follow(runner)


attendance.add_command(status)
attendance.add_command(report)


def main() -> None:
    """The console script ``hot-attendance``."""
    attendance(prog_name="hot-attendance")


def _feed(options: dict[str, Any]) -> Feed:
    """HoT's log from ``hot_read`` or the API, and the relay's Redis if given."""
    if (options["read_url"] is None) == (options["api_url"] is None):
        raise click.UsageError("Read HoT with either --read-url, or --api-url and --token.")
    try:
        return Feed.connect(
            options["read_url"],
            options["redis_url"],
            api_url=options["api_url"],
            token=options["token"],
            prefix=options["prefix"],
            redis_cluster=options["redis_cluster"],
        )
    except ValueError as wrong:  # no token, a cluster's prefix without a hash tag
        raise click.UsageError(str(wrong)) from None


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


def _skip(url: str, position: int | None, reason: str | None, by: str | None) -> None:
    if position is None:
        raise click.UsageError("--reason and --by go with --skip-position N.")
    if not reason:
        raise click.UsageError("--skip-position needs --reason TEXT: why it is skipped.")
    with _closing_store(url) as store:
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
def _closing_store(url: str) -> Iterator[PostgresProjectionStore]:
    with contextlib.closing(PostgresProjectionStore(url)) as store:
        yield store
