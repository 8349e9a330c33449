"""HoT's Prometheus metrics: every one defined here, once, and rendered for a scrape.

Each part reports through a meter made here, handed down by the composition root:
the application's ``Meter`` (``CommandMetrics``: each command's outcome and time, each
transaction), ``RelayMeter`` and ``ProjectorMeter`` (from their status reports),
``WriteThroughMeter``; the API counts requests and open live feeds itself
(``hot.api.observing``). The base meters do nothing, so a part built without metrics
pays nothing. An update is a counter increment on a child resolved once.

With several worker processes (``hot serve`` with ``HOT_WORKERS`` > 1) every process
writes its values into files under ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's
multiprocess mode), which ``hot serve`` makes fresh at each start; a scrape, answered
by any one worker (or by the parent on ``HOT_METRICS_PORT``), adds up every
process's files: counters and histograms are summed, gauges each say how
(``multiprocess_mode``: a position is the most recent value written, open clients the
sum over live processes).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest, values
from prometheus_client.multiprocess import MultiProcessCollector

from hot.infra.metrics_meters import (
    CommandMetrics,
    ProjectorMeter,
    RelayMeter,
    RequestMetrics,
    WriteThroughMeter,
)

MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"

SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 15.0)
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 500)


def multiprocess_dir() -> str | None:
    """The directory of multiprocess mode, if this process is in it."""
    return os.environ.get(MULTIPROC_DIR) or None


def use_fresh_multiprocess_dir() -> Path:
    """A new, empty directory for the metrics of this process and of the worker processes
    it starts (they inherit the environment). For the entry point that owns the process,
    before any metric is made: it switches prometheus-client's values to the files."""
    path = Path(tempfile.mkdtemp(prefix="hot-metrics-"))
    os.environ[MULTIPROC_DIR] = str(path)
    values.ValueClass = values.get_value_class()  # type: ignore[no-untyped-call]
    return path


class HotMetrics:
    """The metrics of one HoT process (in a registry of its own unless in multiprocess
    mode, where the files are the registry); ``render`` answers a scrape."""

    def __init__(self) -> None:
        self.multiprocess = multiprocess_dir() is not None
        self.registry = None if self.multiprocess else CollectorRegistry()
        r = self.registry
        self.commands = Counter(
            "hot_commands", "Commands ended, by name and outcome.", ["command", "outcome"],
            registry=r,
        )  # fmt: skip
        self.command_retries = Counter(
            "hot_command_retries", "Races lost at commit: decided again.", ["command"], registry=r
        )
        self.command_seconds = Histogram(
            "hot_command_seconds", "A command's time, turn to answer.", ["command"],
            buckets=SECONDS, registry=r,
        )  # fmt: skip
        self.batch_commands = Histogram(
            "hot_group_commit_batch_commands", "Commands in one transaction.",
            buckets=BATCH_SIZES, registry=r,
        )  # fmt: skip
        self.transaction_seconds = Histogram(
            "hot_group_commit_transaction_seconds", "One transaction's round trip, BEGIN to "
            "COMMIT.", buckets=SECONDS, registry=r,
        )  # fmt: skip
        self.log_head = Gauge(
            "hot_log_head_position", "The log's last position.", multiprocess_mode="max",
            registry=r,
        )  # fmt: skip
        self.http_requests = Counter(
            "hot_http_requests", "HTTP requests answered.", ["method", "route", "status"],
            registry=r,
        )  # fmt: skip
        self.http_seconds = Histogram(
            "hot_http_request_seconds", "Time to answer an HTTP request (to its first byte).",
            ["method", "route"], buckets=SECONDS, registry=r,
        )  # fmt: skip
        self.sse_clients = Gauge(
            "hot_sse_clients", "Open live feeds (GET /events/stream).",
            multiprocess_mode="livesum", registry=r,
        )  # fmt: skip
        self.postgres_pool = Gauge(
            "hot_postgres_pool_connections", "PostgreSQL pool connections, by state "
            "(in_use, idle, waiting: requests waiting for one).", ["pool", "state"],
            multiprocess_mode="livesum", registry=r,
        )  # fmt: skip
        self.redis_pool = Gauge(
            "hot_redis_pool_connections", "Redis pool connections, by state (in_use, idle).",
            ["pool", "state"], multiprocess_mode="livesum", registry=r,
        )  # fmt: skip
        self.command_meter = CommandMetrics(
            self.commands, self.command_retries, self.command_seconds,
            self.batch_commands, self.transaction_seconds,
        )  # fmt: skip
        self.requests = RequestMetrics(self.http_requests, self.http_seconds)
        self.relay = RelayMeter.made(r)
        self.sql_read = ProjectorMeter.made(r)
        self.write_through = WriteThroughMeter.made(r)

    def scraped(self) -> CollectorRegistry:
        """What a scrape reads: this process's registry, or every process's files."""
        if self.registry is not None:
            return self.registry
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return registry

    def render(self) -> bytes:
        """The metrics in the Prometheus text format."""
        return generate_latest(self.scraped())
