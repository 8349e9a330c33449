"""``hot relay``: publish every event into Redis streams; ``hot relay status``: how far it is."""

from __future__ import annotations

import json
import signal
from dataclasses import asdict
from types import FrameType

import click
from prometheus_client import start_http_server

from hot.cli.runtime import tune_runtime
from hot.infra.bootstrap import Hot, bootstrap
from hot.infra.relay import StreamsReport, build_relay, inspect_streams
from hot.infra.settings import Settings
from hot.infra.sql_read import build_projector
from hot.infra.sql_read.status import SqlReadReport, inspect_sql_read


@click.group(invoke_without_command=True)
@click.pass_context
def relay(ctx: click.Context) -> None:
    """Publish every event of the log into Redis streams, until SIGTERM or Ctrl-C.

    Any number of relays may run: one publishes, the others stand by to take over.
    Each also keeps the SQL read contract (hot_read) in step, unless HOT_SQL_READ=off,
    and serves its metrics on HOT_METRICS_PORT if set.
    """
    if ctx.invoked_subcommand is not None:
        return
    settings = Settings.from_env()
    # Masked streams (the default): a destroyed key still cached changes no entry, so the
    # key store need not listen for forgettings.
    hot = bootstrap(settings, shows_personal=settings.stream_personal)
    projector = build_projector(hot) if settings.sql_read else None
    try:
        running = build_relay(hot)
        if hot.metrics is not None and settings.metrics_port is not None:
            # Its own metrics (the relay's, hot_read's, its pools) on HOT_METRICS_PORT.
            start_http_server(settings.metrics_port, settings.host, hot.metrics.scraped())

        def stop(signum: int, frame: FrameType | None) -> None:
            running.stop()  # the batch in flight is finished first

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        tune_runtime()
        if projector is not None:
            projector.start()  # beside the relay: hot_read in step (HOT_SQL_READ=off: not)
        running.run()
    finally:
        if projector is not None:
            projector.stop()  # the page in flight is finished first
        hot.close()


@relay.command()
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def status(as_json: bool) -> None:
    """Print the log head, each stream's last id and length, the lag, and hot_read's."""
    hot = bootstrap(Settings.from_env(), shows_personal=False)  # it shows no event
    try:
        report, sql_read = inspect_all(hot)
    finally:
        hot.close()
    if as_json:
        click.echo(json.dumps({**asdict(report), "sql_read": asdict(sql_read)}, indent=2))
        return
    echo_streams(report, sql_read)


def echo_streams(report: StreamsReport, sql_read: SqlReadReport) -> None:
    """Print the log head, the relay's position, lag and leader, each stream, and hot_read's
    (``hot relay status``, and ``hot status`` within its screen)."""
    click.echo(f"log head:     {report.head}")
    click.echo(f"published:    {report.published}")
    click.echo(f"lag:          {report.lag} event(s)")
    leader = f"yes (backend pid {report.leader_pid})" if report.leader_pid else "no"
    click.echo(f"relay active: {leader}")
    for key, last in report.streams.items():
        first = report.firsts.get(key, 0)
        where = f"last id {last}-0, first {first}-0" if last else "missing"
        click.echo(f"  {key}: {where}, {report.lengths[key]} entries")
    projecting = f"yes (backend pid {sql_read.projector_pid})" if sql_read.projector_pid else "no"
    click.echo(f"hot_read:     position {sql_read.position}, lag {sql_read.lag} event(s)")
    click.echo(f"projector active: {projecting}")


def inspect_all(hot: Hot) -> tuple[StreamsReport, SqlReadReport]:
    """The streams' report and hot_read's, read now (for ``hot relay status``, ``hot status``)."""
    running = build_relay(hot)
    report = inspect_streams(running.log, running.publisher, hot.database_url)
    return report, inspect_sql_read(running.log, hot.database_url)
