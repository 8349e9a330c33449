"""How far back the streams reach: the relay's reading of ``HOT_STREAM_RETENTION``.

Redis holds the recent tail of the log, PostgreSQL the whole of it. A count keeps
the last N events of each stream (``MAXLEN ~ N``); an age keeps the events recorded
since then (``MINID ~`` the first position inside the window, found in the log and
refreshed now and then). The same window says where to publish from when Redis has
lost its streams.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

from hot.infra.relay.publisher import Trim
from hot.infra.relay.source import EventLog
from hot.infra.settings import StreamRetention
from hot.tuning import RETENTION_REFRESH_SECONDS


class RetentionWindow:
    """Where the retained tail of the log begins, and how to trim the streams to it."""

    def __init__(
        self,
        retention: StreamRetention,
        log: EventLog,
        *,
        clock: Callable[[], float] = time.time,
        refresh_seconds: float = RETENTION_REFRESH_SECONDS,
    ) -> None:
        if (retention.count is None) == (retention.age is None):
            raise ValueError("A stream retention is either a count or an age.")
        self.retention = retention
        self.log = log
        self.clock = clock
        self.refresh_seconds = refresh_seconds
        self._minid: tuple[float, int] | None = None  # (when found, first position kept)

    def floor(self) -> int:
        """The position after which Redis should hold every event (0: the whole log)."""
        if self.retention.count is not None:
            return self.log.newest(skip=self.retention.count)
        return self._first_kept(refresh=True) - 1

    def trim(self) -> Trim:
        """The trimming that keeps the streams to the window."""
        if self.retention.count is not None:
            return Trim("maxlen", self.retention.count)
        return Trim("minid", self._first_kept(refresh=False))

    def _first_kept(self, *, refresh: bool) -> int:
        now = self.clock()
        if refresh or self._minid is None or now - self._minid[0] >= self.refresh_seconds:
            assert self.retention.age is not None
            since = datetime.fromtimestamp(now, UTC) - self.retention.age
            self._minid = (now, self.log.first_since(since))
        return self._minid[1]
