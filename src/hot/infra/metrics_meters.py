"""The meters each part of HoT reports through (made by ``hot.infra.metrics.HotMetrics``).

Each base class here does nothing: a part built without metrics (a test, a benchmark's
baseline) holds one and pays nothing. ``made(registry)`` gives the one that keeps the
metrics; ``registry`` None is multiprocess mode (the values go to files).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

if TYPE_CHECKING:
    from hot.infra.relay.status import RelayStatus
    from hot.infra.sql_read.projector import ProjectorStatus

Registry = CollectorRegistry | None


class CommandMetrics:
    """The application's ``Meter``: each command's outcome and time, each transaction.

    A command's counter and histogram children are resolved once per name and outcome,
    so a command costs two increments, not a look-up under prometheus-client's lock.
    """

    def __init__(
        self,
        commands: Counter,
        retries: Counter,
        seconds: Histogram,
        batch_commands: Histogram,
        transaction_seconds: Histogram,
    ) -> None:
        self._commands, self._retries, self._seconds = commands, retries, seconds
        self._batch_commands, self._transaction_seconds = batch_commands, transaction_seconds
        self._counted: dict[tuple[str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    def command(self, name: str, outcome: str, seconds: float) -> None:
        counted = self._counted.get((name, outcome))
        if counted is None:
            counted = self._counted[name, outcome] = self._commands.labels(name, outcome)
        counted.inc()
        timed = self._timed.get(name)
        if timed is None:
            timed = self._timed[name] = self._seconds.labels(name)
        timed.observe(seconds)

    def race_lost(self, name: str) -> None:
        self._retries.labels(name).inc()  # rare

    def transaction(self, commands: int, seconds: float) -> None:
        self._batch_commands.observe(commands)
        self._transaction_seconds.observe(seconds)


class RequestMetrics:
    """The API's count and time of each request, by method, route and status: children
    resolved once per label set, as ``CommandMetrics``'s are (a request is on the path
    of every answer, and ``labels()`` takes a lock and builds its key each time)."""

    def __init__(self, requests: Counter, seconds: Histogram) -> None:
        self._requests, self._seconds = requests, seconds
        self._counted: dict[tuple[str, str, int], Any] = {}
        self._timed: dict[tuple[str, str], Any] = {}

    def answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """A request to ``route`` was answered ``status`` after ``seconds``."""
        counted = self._counted.get((method, route, status))
        if counted is None:
            counted = self._requests.labels(method, route, str(status))
            self._counted[method, route, status] = counted
        counted.inc()
        timed = self._timed.get((method, route))
        if timed is None:
            timed = self._timed[method, route] = self._seconds.labels(method, route)
        timed.observe(seconds)


class RelayMeter:
    """What a relay reports: its status (position, lag, leading), what it published, and
    each refill of streams Redis lost."""

    def status(self, status: RelayStatus) -> None:
        """The relay's status changed."""

    def published(self, events: int) -> None:
        """``events`` public events went into the streams in one step."""

    def refilled(self) -> None:
        """Redis had lost the streams: the log's tail is being published again."""

    @staticmethod
    def made(registry: Registry) -> RelayMeter:
        return _RelayGauges(registry)


class _RelayGauges(RelayMeter):
    def __init__(self, r: Registry) -> None:
        recent: dict[str, Any] = {"multiprocess_mode": "mostrecent", "registry": r}
        self.position = Gauge("hot_relay_published_position", "Last position in Redis.", **recent)
        self.lag = Gauge("hot_relay_lag_events", "Public events not yet published.", **recent)
        self.lag_seconds = Gauge(
            "hot_relay_lag_seconds", "Seconds since the relay was last caught up.", **recent
        )
        self.leader = Gauge(
            "hot_relay_leader", "1 while this relay publishes (holds the lock).", **recent
        )
        self.events = Counter("hot_relay_published_events", "Events published.", registry=r)
        self.refills = Counter("hot_relay_refills", "Refills of lost streams.", registry=r)
        self._caught_up_at = time.monotonic()

    def status(self, status: RelayStatus) -> None:
        now = time.monotonic()
        if status.caught_up:
            self._caught_up_at = now
        self.position.set(status.published)
        self.lag.set(status.lag)
        self.lag_seconds.set(0.0 if status.caught_up else now - self._caught_up_at)
        self.leader.set(1 if status.state == "active" else 0)

    def published(self, events: int) -> None:
        self.events.inc(events)

    def refilled(self) -> None:
        self.refills.inc()


class ProjectorMeter:
    """What the ``hot_read`` projector reports: its status (position, lag, projecting)."""

    def status(self, status: ProjectorStatus) -> None:
        """The projector's status changed."""

    @staticmethod
    def made(registry: Registry) -> ProjectorMeter:
        return _ProjectorGauges(registry)


class _ProjectorGauges(ProjectorMeter):
    def __init__(self, r: Registry) -> None:
        recent: dict[str, Any] = {"multiprocess_mode": "mostrecent", "registry": r}
        self.position = Gauge("hot_sql_read_position", "Last position in hot_read.", **recent)
        self.lag = Gauge("hot_sql_read_lag_events", "Public events not in hot_read.", **recent)
        self.active = Gauge("hot_sql_read_active", "1 while this projector projects.", **recent)

    def status(self, status: ProjectorStatus) -> None:
        self.position.set(status.position)
        self.lag.set(status.lag)
        self.active.set(1 if status.state == "active" else 0)


class WriteThroughMeter:
    """What the write-through reports: each transaction it published (a hit), or left to
    the relay (a miss: commands waiting, resting after an error, not next in the streams)."""

    def offered(self, published: bool) -> None:
        """A committed transaction was offered to the write-through."""

    @staticmethod
    def made(registry: Registry) -> WriteThroughMeter:
        return _WriteThroughCounts(registry)


class _WriteThroughCounts(WriteThroughMeter):
    def __init__(self, r: Registry) -> None:
        offered = Counter(
            "hot_write_through_transactions",
            "Transactions offered to the write-through, by result (hit: it published them; "
            "miss: left to the relay).",
            ["result"],
            registry=r,
        )
        self._hit, self._miss = offered.labels("hit"), offered.labels("miss")

    def offered(self, published: bool) -> None:
        (self._hit if published else self._miss).inc()
