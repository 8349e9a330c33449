"""``hot serve``: the HTTP API under uvicorn, on the configured or embedded servers.

On the first start with no API key, an admin token is created and printed once.
The relay and the SQL read projector run in a process of their own
(``hot.cli.background``), off the API's interpreter lock. With several workers, each
worker process builds its own HoT from the environment; the parent passes down the
URLs of the embedded servers it started, so that all workers share them. Every
process of a ``hot serve`` writes its metrics into one fresh directory
(prometheus-client's multiprocess mode, ``PROMETHEUS_MULTIPROC_DIR``): a scrape of any
worker, or of the parent on ``HOT_METRICS_PORT``, adds up every process's.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
from collections.abc import Callable
from types import FrameType
from typing import Any

import click
import uvicorn
from litestar import Litestar
from prometheus_client import multiprocess, start_http_server

from hot.api import create_app
from hot.api.health import RelayStatus
from hot.cli.background import Background
from hot.cli.runtime import tune_runtime
from hot.infra.api_keys import POOL_NAME as API_KEYS_POOL
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import Hot, bootstrap
from hot.infra.logs import configure_logging
from hot.infra.metrics import use_fresh_multiprocess_dir
from hot.infra.postgres_log import PostgresLog
from hot.infra.settings import Settings
from hot_follow import Feed


def build_api(
    hot: Hot,
    *,
    close_on_shutdown: bool,
    relay_status: RelayStatus | None = None,
    sql_read_status: RelayStatus | None = None,
) -> Litestar:
    """The API over ``hot``'s parts (closing them when the app shuts down, if asked).

    What it makes itself, the API key store and the live feed's log reader, it closes
    when the app shuts down; the feed's Redis client is ``hot``'s.
    """
    api_keys = ApiKeyStore(hot.database_url, cache_seconds=hot.settings.api_key_cache_seconds)
    log = PostgresLog(hot.app, reads=hot.replicas)  # its catch-ups on the replicas, if any
    on_shutdown: list[Callable[[], object]] = [log.close, api_keys.close]
    if hot.sampler is not None:
        hot.sampler.watch_postgres(API_KEYS_POOL, api_keys.pool)
    if hot.metrics is not None and hot.metrics.multiprocess:
        # This process's "live" gauges (open streams, pools) stop counting once it ends.
        on_shutdown.append(lambda: multiprocess.mark_process_dead(os.getpid()))  # type: ignore[no-untyped-call]
    return create_app(
        hot.app,
        api_keys,
        redis=hot.redis,
        cors_origins=hot.settings.cors_origins,
        stream_prefix=hot.settings.redis_prefix,
        stream_personal=hot.settings.stream_personal,
        relay_status=relay_status,
        sql_read_status=sql_read_status,
        replica_status=hot.replicas.status if hot.replicas is not None else None,
        feed=Feed(log, hot.redis, hot.settings.redis_prefix),
        metrics=hot.metrics,
        metrics_route_on=hot.settings.metrics_port is None,
        tracing=hot.tracing,
        on_shutdown=[*on_shutdown, *([hot.close] if close_on_shutdown else [])],
    )


def worker_app() -> Litestar:
    """The factory each uvicorn worker process calls (``--workers`` > 1): a new process,
    whose logging is set up again as the ``hot`` command set up its parent's."""
    settings = Settings.from_env()
    configure_logging(logging.INFO, settings.log_format)
    api = build_api(bootstrap(settings, serves_commands=True), close_on_shutdown=True)
    tune_runtime()
    return api


# uvicorn with its fast parts (as "auto" would pick them), and no access log unless asked;
# its loggers go through HoT's logging (format, request id), not a configuration of its own.
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "httptools",
    "access_log": False,
    "log_config": None,
}


def _exit(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


@click.command()
@click.option("--host", help="Address to listen on [HOT_HOST, default 127.0.0.1].")
@click.option("--port", type=int, help="Port to listen on [HOT_PORT, default 8000].")
@click.option("--workers", type=int, help="Worker processes [HOT_WORKERS, default 1].")
@click.option("--access-log/--no-access-log", default=False, help="Log every request.")
def serve(host: str | None, port: int | None, workers: int | None, access_log: bool) -> None:
    """Serve the HTTP API (OpenAPI document and UI at /schema)."""
    settings = Settings.from_env()
    # uvicorn shuts down on SIGTERM, then raises it again: exit cleanly through the exit stack.
    signal.signal(signal.SIGTERM, _exit)
    run(
        settings,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        access_log=access_log,
    )


def run(
    settings: Settings,
    *,
    host: str,
    port: int,
    workers: int,
    access_log: bool = False,
    worker_app: str = "hot.cli.serve:worker_app",
    extend: Callable[[Litestar], object] = lambda api: None,
) -> None:
    """Serve the API as ``hot serve`` does, until shut down.

    ``worker_app`` is the factory each worker process calls (``workers`` > 1); ``extend``
    is called with the API a single process serves. Both are there for benchmarks that
    measure HoT as it serves, beside a bare endpoint on the same server.
    """
    with contextlib.ExitStack() as stack:
        background = Background(settings)  # the relay and the projector, if on
        if settings.metrics and (workers > 1 or background.needed):
            # Several processes write metrics (workers, the background process): files.
            metrics_dir = use_fresh_multiprocess_dir()  # before any metric is made
            stack.callback(shutil.rmtree, metrics_dir, ignore_errors=True)
        hot = bootstrap(settings, serves_commands=True)
        stack.callback(hot.close)
        with ApiKeyStore(hot.database_url) as api_keys:
            admin_token = api_keys.create_first_admin()
        if admin_token is not None:
            click.secho("No API key existed, so an admin key 'admin' was created.", bold=True)
            click.echo(f"Its token (shown only this once): {admin_token}")
        options = {
            **UVICORN_OPTIONS,
            "host": host,
            "port": port,
            "access_log": access_log,
            "log_level": "info",
        }
        if background.needed:
            if background.runs_relay:
                click.echo(
                    "relay: publishing events to Redis streams (HOT_RELAY=off to leave it out)"
                )
            background.start(hot.database_url, hot.redis_url)
            stack.callback(background.stop)
        if hot.metrics is not None and settings.metrics_port is not None:
            scraped = hot.metrics.scraped()
            server, _ = start_http_server(settings.metrics_port, addr=host, registry=scraped)
            stack.callback(server.shutdown)
        if workers == 1:
            api = build_api(
                hot,
                close_on_shutdown=False,
                relay_status=background.relay_status if background.runs_relay else None,
                sql_read_status=background.sql_read_status if background.runs_sql_read else None,
            )
            extend(api)
            tune_runtime()
            uvicorn.run(api, **options)
            return
        os.environ["HOT_DATABASE_URL"] = hot.database_url
        if hot.redis_url:
            os.environ["HOT_REDIS_URL"] = hot.redis_url
        uvicorn.run(worker_app, factory=True, workers=workers, **options)
