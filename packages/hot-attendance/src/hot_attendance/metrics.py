"""A projection's metrics (``hot-attendance --metrics-port``): where it stands, how far
behind the log's head, its handlers' failures, and whether it is stuck on an event.

``ProjectionMetrics`` is the ``ProjectionRunner``'s meter; ``serve`` answers scrapes on
a port of the runner's choosing. The head is read when scraped (one indexed query), so
the lag is as of the scrape; the rest is set as the runner goes.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, start_http_server

from hot_follow.runner import ProjectionMeter


class ProjectionMetrics(ProjectionMeter):
    """The metrics of the projection ``name``, in a registry of their own; ``head`` reads
    the log's last position of the events it handles (None: the source cannot tell, and
    the head and lag read NaN)."""

    def __init__(self, name: str, head: Callable[[], int | None]) -> None:
        self.registry = CollectorRegistry()
        r, labels = self.registry, ["projection"]
        self.position = Gauge(
            "hot_projection_position", "Last position its state includes.", labels, registry=r
        ).labels(name)
        self.head = Gauge(
            "hot_projection_head_position", "The log's last position of the events it handles "
            "(read when scraped).", labels, registry=r,
        ).labels(name)  # fmt: skip
        self.lag = Gauge(
            "hot_projection_lag_positions", "Log positions between its position and the head "
            "(0: caught up).", labels, registry=r,
        ).labels(name)  # fmt: skip
        self.errors = Counter(
            "hot_projection_handler_errors", "Handler failures (each attempt at an event).",
            labels, registry=r,
        ).labels(name)  # fmt: skip
        self.stuck = Gauge(
            "hot_projection_stuck", "1 while a handler fails on the event after its position.",
            labels, registry=r,
        ).labels(name)  # fmt: skip
        self.stuck_position = Gauge(
            "hot_projection_stuck_position", "The position it is stuck at (0: none).", labels,
            registry=r,
        ).labels(name)  # fmt: skip
        self._reached = 0
        self._stuck_at = 0
        self._lock = threading.Lock()  # the runner's thread writes, the scrape's reads
        self._read_head = head
        self.head.set_function(lambda: self._head())
        self.lag.set_function(lambda: max(0.0, self._head() - self._reached))

    def _head(self) -> float:
        head = self._read_head()
        return float("nan") if head is None else float(head)

    def reached(self, position: int) -> None:
        with self._lock:
            self._reached = position
            if self._stuck_at and position >= self._stuck_at:  # passed it (or skipped)
                self._stuck_at = 0
            self.position.set(position)
            self.stuck.set(1 if self._stuck_at else 0)
            self.stuck_position.set(self._stuck_at)

    def handler_failed(self, position: int) -> None:
        with self._lock:
            self.errors.inc()
            self._stuck_at = position
            self.stuck.set(1)
            self.stuck_position.set(position)

    def serve(self, port: int, host: str = "127.0.0.1") -> Callable[[], None]:
        """Answer scrapes on ``host:port``; what stops it."""
        server, _ = start_http_server(port, addr=host, registry=self.registry)
        return server.shutdown
