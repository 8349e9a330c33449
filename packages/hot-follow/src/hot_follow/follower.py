"""``Follower``: the public events after a position, in log order, exactly once.

It reads the log (PostgreSQL or the HTTP API) until it reaches the end, then reads
the relay's Redis streams, whose entry ids are log positions. Every event it hands
out has a position greater than the last one, so a Redis that lags the log costs
nothing but waiting, and nothing is handed out twice.

What it must never do is skip: Redis holds only the recent tail of the log, so the
streams may not reach back to the follower's position (it fell behind the trimmed
window, or Redis lost its data and the relay refills it from later on). So before
it takes entries from a stream that begins after its position, it asks the log
whether any event lies in between; if one does, it reads the log again, and comes
back to Redis when that catch-up is done. Positions have gaps (rolled-back
transactions, internal events, other names), which is why it asks rather than
counting. A source that is a copy of the log (``hot_read``, kept in step by a
projector) may not hold yet the events just before the stream's first entry: then it
answers only once it has caught up with where the stream begins (``complete_upto``),
and meanwhile the follower reads the source. If Redis has nothing new while the log
does, twice a few seconds apart (the relay is down), it reads the log too.

Personal fields (names, emails, reasons) are masked as ``"(personal)"`` unless the
follower is made ``personal``, as in every other read of HoT. The streams carry them
masked unless the relay publishes them (``HOT_STREAM_PERSONAL``), so a ``personal``
follower reads a batch from Redis that has masked fields again from the log, whose
events are exactly the same ones: Redis says when, the log says what.

Redis errors send it to the log, and back to Redis after a backoff; log errors are
retried with backoff. ``stop()`` (from any thread) ends it within a second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from types import TracebackType

from hot_follow.backoff import Backoff
from hot_follow.errors import SourceUnavailableError, UnknownEventNameError
from hot_follow.events import RecordedEvent
from hot_follow.names import unknown_names
from hot_follow.redis_client import REDIS_ERRORS, RedisClient
from hot_follow.redis_streams import StreamRead, StreamReader
from hot_follow.representation import is_masked, masked_event
from hot_follow.sources import EventSource
from hot_follow.stopping import StopFlag
from hot_follow.tuning import (
    FOLLOWER_BLOCK_SECONDS,
    FOLLOWER_PAGE,
    FOLLOWER_POLL_SECONDS,
    FOLLOWER_STALE_SECONDS,
)

log = logging.getLogger(__name__)


def checked_names(names: Sequence[str]) -> tuple[str, ...]:
    """``names`` without repeats, each a built-in's or a well-formed team type's name (else
    ``UnknownEventNameError``)."""
    unknown = unknown_names(names)
    if unknown:
        raise UnknownEventNameError(unknown)
    return tuple(dict.fromkeys(names))


class Follower:
    """Iterates over the events after ``after`` (0: all), of ``names`` (empty: all), forever.

    Use it as a context manager and iterate, or call ``poll`` for one batch at a time.
    """

    def __init__(
        self,
        source: EventSource,
        redis_client: RedisClient | None = None,
        *,
        after: int = 0,
        names: Sequence[str] = (),
        prefix: str = "hot",
        page_size: int = FOLLOWER_PAGE,
        block_seconds: float = FOLLOWER_BLOCK_SECONDS,
        poll_seconds: float = FOLLOWER_POLL_SECONDS,
        stale_seconds: float = FOLLOWER_STALE_SECONDS,
        personal: bool = False,
        on_close: Sequence[Callable[[], None]] = (),
    ) -> None:
        if after < 0:
            raise ValueError("A follower starts at a position >= 0.")
        self.source = source
        self.names = checked_names(names)
        self.position = after
        self.page_size = page_size
        self.block_seconds = block_seconds
        self.poll_seconds = poll_seconds
        self.stale_seconds = stale_seconds
        self.personal = personal
        self.streams = (
            StreamReader(redis_client, prefix, self.names, page_size) if redis_client else None
        )
        self.live = False  # True while reading Redis
        self.from_log = 0  # how many events came from each side: for tests and metrics
        self.from_redis = 0
        self._on_close = list(on_close)
        self._stopped = StopFlag()
        self._source_backoff = Backoff()
        self._redis_backoff = Backoff(initial=0.5, maximum=10.0)
        self._redis_after = 0.0  # monotonic time before which Redis is not tried
        self._verified: dict[str, tuple[int, int | None]] = {}
        self._probe: tuple[float, int, int | None] = (time.monotonic(), -1, None)

    # Consuming --------------------------------------------------------------------

    def __iter__(self) -> Iterator[RecordedEvent]:
        for batch in self.batches():
            yield from batch

    def batches(self) -> Iterator[list[RecordedEvent]]:
        """Non-empty batches of events in log order, until stopped."""
        while not self._stopped.is_set():
            batch = self.poll(self.block_seconds)
            if batch:
                yield batch

    def poll(self, timeout: float = 1.0) -> list[RecordedEvent]:
        """The next events after ``position`` (advancing it), or [] if none came in ``timeout``."""
        deadline = time.monotonic() + timeout
        while not self._stopped.is_set():
            try:
                events = self._step(deadline)
            except REDIS_ERRORS as error:
                self._leave_redis(f"Redis failed ({error})")
                continue
            except SourceUnavailableError as error:
                delay = self._source_backoff.next()
                log.warning("%s; retrying in %.1fs", error, delay)
                self._stopped.wait(delay)
                continue
            self._source_backoff.reset()
            if events:
                self.position = events[-1].position
                return events
            if time.monotonic() >= deadline:
                break
        return []

    # Lifecycle ----------------------------------------------------------------------

    def stop(self) -> None:
        """End iteration (within about a second); safe from any thread or a signal handler."""
        self._stopped.set()

    @property
    def stopped(self) -> bool:
        return self._stopped.is_set()

    def close(self) -> None:
        self.stop()
        for close in self._on_close:
            close()
        self._on_close.clear()

    def __enter__(self) -> Follower:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # One step of the state machine ------------------------------------------------

    def _step(self, deadline: float) -> list[RecordedEvent]:
        if self.live:
            return self._step_redis(deadline)
        events = list(
            self.source.read(self.position, self.page_size, self.names, personal=self.personal)
        )
        self.from_log += len(events)
        if len(events) == self.page_size:
            return events  # more to read from the log
        now = time.monotonic()
        if self.streams is not None and now >= self._redis_after:
            self.live = True
            log.debug("at the end of the log (%d): reading Redis", self.position)
        elif not events:
            self._stopped.wait(max(0.0, min(self.poll_seconds, deadline - now)))
        return events

    def _step_redis(self, deadline: float) -> list[RecordedEvent]:
        assert self.streams is not None
        snapshot = self.streams.read(self.position)
        gap = self._gap(snapshot)
        if gap is not None:
            self._leave_redis(*gap)
            return []
        self._redis_backoff.reset()
        if snapshot.events:
            self.from_redis += len(snapshot.events)
            if not self.personal:
                return [masked_event(e) for e in snapshot.events]
            if any(map(is_masked, snapshot.events)):
                return self._from_log(snapshot.events)
            return snapshot.events
        if self._relay_stalled():
            self._leave_redis("the log has events Redis still lacks", retry=0.0)
            return []
        remaining = deadline - time.monotonic()
        if remaining > 0:
            self.streams.wait(self.position, min(self.block_seconds, remaining))
        return []

    def _gap(self, snapshot: StreamRead) -> tuple[str, float, int] | None:
        """None if every stream holds all its events after ``position`` (see the module
        docstring); else why not, how soon to try Redis again and the log level to say so."""
        assert self.streams is not None
        for key, first in snapshot.firsts.items():
            if first is not None and first <= self.position:
                continue
            if self._verified.get(key) == (self.position, first):
                continue
            known = self.source.complete_upto()  # first: what ``first_after`` then covers
            following = self.source.first_after(self.position, self.streams.names_of[key])
            if following is not None and (first is None or following < first):
                return "Redis does not reach back to the follower's position", 0.0, logging.INFO
            if following is None and first is not None and known is not None and known < first - 1:
                # the source may still lack events before ``first``: read it for a while
                reason = f"the source holds the log up to {known}, Redis begins at {first}"
                return reason, self.poll_seconds, logging.DEBUG
            self._verified[key] = (self.position, first)
        return None

    def _relay_stalled(self) -> bool:
        """True when the log's next event was already due at the previous check, seconds ago."""
        now = time.monotonic()
        checked_at, position, following = self._probe
        if now - checked_at < self.stale_seconds:
            return False
        nxt = self.source.first_after(self.position, self.names)
        self._probe = (now, self.position, nxt)
        return nxt is not None and (position, following) == (self.position, nxt)

    def _from_log(self, events: list[RecordedEvent]) -> list[RecordedEvent]:
        """The same events, read from the log, where their personal fields are."""
        return list(
            self.source.read(self.position, len(events), self.names, upto=events[-1].position)
        )

    def _leave_redis(
        self, reason: str, retry: float | None = None, level: int = logging.INFO
    ) -> None:
        delay = self._redis_backoff.next() if retry is None else retry
        if retry is None:
            log.warning("%s: reading the log, Redis again in %.1fs", reason, delay)
        else:
            log.log(level, "%s: reading the log", reason)
        self.live = False
        self._redis_after = time.monotonic() + delay
