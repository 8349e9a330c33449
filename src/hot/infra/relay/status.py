"""What a relay reports: its own state (cheap, for health checks) and the streams' (for people).

``RelayStatus`` is kept up to date by the running relay and read without any I/O.
``StreamsReport`` asks PostgreSQL and Redis directly, for ``hot relay status``.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hot.infra.relay.leader import lock_holder
from hot.infra.relay.publisher import StreamPublisher
from hot.infra.relay.source import EventLog
from hot.tuning import LAG_CAP
from hot_follow.streams import position_of

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

S = TypeVar("S", bound="DataclassInstance")


@dataclass(frozen=True)
class RelayStatus:
    """A relay's state as it last saw it.

    ``state`` is ``starting``, ``standby`` (another relay holds the lock), ``active``,
    ``retrying`` (after an error, see ``error``) or ``stopped``. ``published`` is the
    all-events stream's last position; ``lag`` the public events in the log not yet
    published, as of ``checked_at`` (0 when ``caught_up``).
    """

    state: str
    published: int = 0
    lag: int = 0
    caught_up: bool = False
    checked_at: datetime | None = None
    error: str | None = None


class StatusBoard(Generic[S]):
    """A running part's status, a frozen dataclass (the relay's ``RelayStatus``, the SQL
    read projector's), updated by it and read from any thread; ``observe`` is shown each
    new status (its metrics)."""

    def __init__(self, initial: S, observe: Callable[[S], None] = lambda status: None) -> None:
        self._status = initial
        self._lock = threading.Lock()
        self._observe = observe
        observe(initial)

    def current(self) -> S:
        with self._lock:
            return self._status

    def update(self, **changes: Any) -> None:
        with self._lock:
            self._status = status = dataclasses.replace(self._status, **changes)
        self._observe(status)


@dataclass(frozen=True)
class StreamsReport:
    """The log head, what Redis has, and the difference, as seen now."""

    head: int
    streams: dict[str, int]  # key -> last position (0: the stream does not exist)
    lengths: dict[str, int]
    lag: int
    leader_pid: int | None = field(default=None)
    firsts: dict[str, int] = field(default_factory=dict)  # key -> first position (0: empty)

    @property
    def published(self) -> int:
        return next(iter(self.streams.values()), 0)


def inspect_streams(log: EventLog, publisher: StreamPublisher, database_url: str) -> StreamsReport:
    """Read the log head, every stream's first and last id and length, and the active relay."""
    streams = publisher.last_positions()
    pipe = publisher.client.pipeline(transaction=False)
    for key in streams:
        pipe.xlen(key)
        pipe.xrange(key, count=1)
    replies = pipe.execute()
    lengths = dict(zip(streams, replies[::2], strict=True))
    firsts = {
        key: position_of(first[0][0]) if first else 0
        for key, first in zip(streams, replies[1::2], strict=True)
    }
    published = streams[publisher.stream_keys.all]
    return StreamsReport(
        head=log.head(),
        streams=streams,
        lengths={k: int(v) for k, v in lengths.items()},
        lag=log.count_after(published, LAG_CAP),
        leader_pid=lock_holder(database_url, publisher.stream_keys.prefix),
        firsts=firsts,
    )
