"""``hot relay``: publish every event into Redis streams; ``hot relay status``: how far it is."""

from __future__ import annotations

import json
import signal
from dataclasses import asdict
from types import FrameType

import click

from hot.cli.runtime import tune_runtime
from hot.infra.bootstrap import bootstrap
from hot.infra.relay import build_relay, inspect_streams
from hot.infra.settings import Settings
from hot.infra.sql_read import build_projector
from hot.infra.sql_read.status import inspect_sql_read


@click.group(invoke_without_command=True)
@click.pass_context
def relay(ctx: click.Context) -> None:
    """Publish every event of the log into Redis streams, until SIGTERM or Ctrl-C.

    Any number of relays may run: one publishes, the others stand by to take over.
    Each also keeps the SQL read contract (hot_read) in step, unless HOT_SQL_READ=off.
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
        running = build_relay(hot)
        report = inspect_streams(running.log, running.publisher, hot.database_url)
        sql_read = inspect_sql_read(running.log, hot.database_url)
    finally:
        hot.close()
    if as_json:
        click.echo(json.dumps({**asdict(report), "sql_read": asdict(sql_read)}, indent=2))
        return
    click.echo(f"log head:     {report.head}")
    click.echo(f"published:    {report.published}")
    click.echo(f"lag:          {report.lag} event(s)")
    leader = f"yes (backend pid {report.leader_pid})" if report.leader_pid else "no"
    click.echo(f"relay active: {leader}")
    for key, last in report.streams.items():
        where = f"last id {last}-0" if last else "missing"
        click.echo(f"  {key}: {where}, {report.lengths[key]} entries")
    projecting = f"yes (backend pid {sql_read.projector_pid})" if sql_read.projector_pid else "no"
    click.echo(f"hot_read:     position {sql_read.position}, lag {sql_read.lag} event(s)")
    click.echo(f"projector active: {projecting}")
