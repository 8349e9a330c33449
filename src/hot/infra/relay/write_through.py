"""The write-through: each committed transaction offered to the streams at once, by the
process that committed it, a hop ahead of the relay.

The relay learns of a commit from its ``NOTIFY``: the writer's PostgreSQL backend wakes
the relay's backend, which wakes the relay, which writes to Redis, which wakes the
readers. The writer holds its events when ``COMMIT`` returns (the group committer
tells it, with their positions), so it offers them to Redis straight away, as they
are, in the relay's own atomic publish, on one condition: the
all-events stream stands exactly at the log position of the last event before the
transaction (which the recorder reads under the table lock). Then every event before the
transaction is in the streams, and appending keeps them equal to the log.

Otherwise it adds nothing and leaves the transaction to the relay: another transaction's
events are not there yet, Redis lost data, or the event before is one the streams do
not carry. The relay stays what guarantees that every event gets there, exactly once,
in order; it publishes the same transaction from its ``NOTIFY`` and adds nothing twice
(an entry's id is its position), and it trims the streams. A transaction with a
``HUMAN_FORGOTTEN`` is left to the relay too, which erases the human's earlier entries,
and so is one of more than ``WRITE_THROUGH_MAX_EVENTS`` events (an import), which it publishes in
batches rather than in one long step that holds up every other client of Redis.

It never fails a write, which has committed: errors are logged, and after one the
write-through rests a while (the relay publishes meanwhile), so that a Redis that is
down or slow does not slow every write. Nor does it delay the next transaction: while
commands wait for one (the group committer is saturated), it leaves the
relay to publish, which takes many commits in one step; a fraction of a millisecond
saved then is nothing beside the time commands spend queued, and the round trip to
Redis for each transaction would cost commands their throughput.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from opentelemetry import trace

from hot.application import CATALOG
from hot.application.group_commit import CommittedBatch
from hot.application.team_decoding import recorded_team_event
from hot.application.team_storage import TeamEvent
from hot.application.views import RecordedEvent
from hot.infra.metrics_meters import WriteThroughMeter
from hot.infra.relay.publisher import FORGETTING, StreamPublisher, Trim
from hot.infra.relay.relay import SERVER_ERRORS
from hot.tuning import WRITE_THROUGH_MAX_EVENTS, WRITE_THROUGH_REST_SECONDS
from hot_follow.redis_client import RedisClient
from hot_follow.representation import masked_event
from hot_follow.streams import StreamKeys

log = logging.getLogger(__name__)

_NO_TRIM = Trim("")  # the relay trims, when it publishes the same transaction


class WriteThrough:
    """Publishes a committed transaction's public events into the streams under
    ``prefix`` when they come next there (``HumansApplication.tell_commits``). Personal
    fields are masked unless ``personal``, as the relay's are. Each publish is a span of
    ``tracer``'s, a child of the transaction's (current in the committer's thread)."""

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "hot",
        personal: bool = False,
        rest_seconds: float = WRITE_THROUGH_REST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        meter: WriteThroughMeter | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        stream_keys = StreamKeys(prefix, CATALOG.names)
        self.publisher = StreamPublisher(client, stream_keys, _erases_nothing)
        self.personal = personal
        self.rest_seconds = rest_seconds
        self.clock = clock
        self.meter = meter or WriteThroughMeter()  # told of each hit and miss (metrics)
        self.tracer = tracer or trace.NoOpTracer()  # a span for each publish (traces)
        self.added = 0  # events this write-through put in the streams
        self.left_while_busy = 0  # transactions left to the relay as commands waited
        self._resting_until = 0.0
        self._lock = threading.Lock()

    def __call__(self, batch: CommittedBatch) -> None:
        """Publish the batch's public events if the all-events stream stands at the last
        public event before them; never raises."""
        published = False
        with self._lock:
            if batch.waiting:
                self.left_while_busy += 1
            elif self.clock() >= self._resting_until:
                try:
                    published = self._traced_offer(batch)
                except SERVER_ERRORS as error:
                    self._rest(error)
                except Exception as error:  # the transaction committed: tell, never fail it
                    log.exception("write-through: unexpected error")
                    self._rest(error)
        self.meter.offered(published)

    def close(self) -> None:
        """Give back the Redis connection kept for publishing."""
        self.publisher.close()

    def _traced_offer(self, batch: CommittedBatch) -> bool:
        with self.tracer.start_as_current_span("write-through XADD") as span:
            published = self._offer(batch)
            span.set_attributes(
                {
                    "db.system.name": "redis",
                    "hot.write_through.result": "hit" if published else "miss",
                    "hot.events": len(batch.written),
                }
            )
            return published

    def _offer(self, batch: CommittedBatch) -> bool:
        """Whether it published the batch's events."""
        if len(batch.written) > WRITE_THROUGH_MAX_EVENTS:
            return False
        events: list[RecordedEvent] = []
        for w in batch.written:
            if isinstance(w.event, TeamEvent):
                events.append(recorded_team_event(w.event, w.position, personal=self.personal))
            elif (event_type := CATALOG.get(getattr(w.event, "TOPIC", ""))) is not None:
                recorded = event_type.recorded(w.event, w.position)
                events.append(recorded if self.personal else masked_event(recorded))
        if not events or any(event.name == FORGETTING for event in events):
            return False
        published = self.publisher.publish(events, batch.before, _NO_TRIM, exact=True)
        if published.accepted:
            self.added += len(events)
        return published.accepted

    def _rest(self, error: Exception) -> None:
        log.warning(
            "write-through: %s: %s; the relay alone publishes for %g s",
            type(error).__name__,
            error,
            self.rest_seconds,
        )
        self._resting_until = self.clock() + self.rest_seconds


def _erases_nothing(subject: object, position: int) -> list[tuple[str, int]]:
    """A forgetting is never written through (the relay publishes it, and erases)."""
    return []
