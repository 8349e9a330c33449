"""The write-through: each committed transaction offered to the streams at once, by the
process that committed it, a hop ahead of the relay.

The relay learns of a commit from its ``NOTIFY``: the writer's PostgreSQL backend wakes
the relay's backend, which wakes the relay, which writes to Redis, which wakes the
readers. The writer knows its events the moment ``COMMIT`` returns, so it offers them to
Redis straight away, in the relay's own atomic publish, on one condition: the
all-events stream stands exactly at the log position of the last event before the
transaction (which the recorder reads under the table lock). Then every event before the
transaction is in the streams, and appending keeps them equal to the log.

Otherwise it adds nothing and leaves the transaction to the relay: another transaction's
events are not there yet, Redis lost data, or the event before is one the streams do
not carry. The relay stays what guarantees that every event gets there, exactly once,
in order; it publishes the same transaction from its ``NOTIFY`` and adds nothing twice
(an entry's id is its position), and it trims the streams. A transaction with a
``HUMAN_FORGOTTEN`` is left to the relay too, which erases the human's earlier entries,
and so is one of more than ``MAX_ROWS`` events (an import), which it publishes in
batches rather than in one long step that holds up every other client of Redis.

It never fails a write, which has committed: errors are logged, and after one the
write-through rests a while (the relay publishes meanwhile), so that a Redis that is
down or slow does not slow every write. Nor does it delay the next transaction: while
commands wait for one (``busy``, the group committer is saturated), it leaves the
relay to publish, which takes many commits in one step; a fraction of a millisecond
saved then is nothing beside the time commands spend queued, and the round trip to
Redis for each transaction would cost commands their throughput.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence

import redis

from hot.application import CATALOG, HumansApplication
from hot.application.decoding import Row
from hot.infra.relay.publisher import FORGETTING, StreamPublisher, Trim
from hot.infra.relay.relay import SERVER_ERRORS
from hot.infra.relay.source import EventLog
from hot.infra.relay.streams import StreamKeys

log = logging.getLogger(__name__)

REST_SECONDS = 5.0  # after an error, how long the relay alone publishes
MAX_ROWS = 2000  # a larger transaction (an import) the relay publishes, in its batches
_NO_TRIM = Trim("")  # the relay trims, when it publishes the same transaction


class WriteThrough:
    """Publishes a committed transaction's public events into the streams under
    ``prefix`` when they come next there, unless ``busy()``; called with the position
    before the transaction and its rows (``HotRecorder.committed``). Personal fields
    are masked unless ``personal``, as the relay's are."""

    def __init__(
        self,
        app: HumansApplication,
        client: redis.Redis,
        *,
        prefix: str = "hot",
        personal: bool = False,
        busy: Callable[[], bool] = lambda: False,
        rest_seconds: float = REST_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.log = EventLog(app, personal=personal)
        keys = StreamKeys(prefix, CATALOG.names)
        self.publisher = StreamPublisher(client, keys, self.log.earlier)
        self.busy = busy
        self.rest_seconds = rest_seconds
        self.clock = clock
        self.added = 0  # events this write-through put in the streams
        self.left_while_busy = 0  # transactions left to the relay as commands waited
        self._resting_until = 0.0
        self._lock = threading.Lock()  # writes that did not wait for the committer

    def __call__(self, before: int, rows: Sequence[Row]) -> None:
        """Publish ``rows`` if the all-events stream stands at ``before``; never raises."""
        with self._lock:
            if self.busy():
                self.left_while_busy += 1
                return
            if self.clock() < self._resting_until:
                return
            try:
                self._offer(before, rows)
            except SERVER_ERRORS as error:
                self._rest(error)
            except Exception as error:  # the transaction committed: tell, never fail it
                log.exception("write-through: unexpected error")
                self._rest(error)

    def close(self) -> None:
        """Give back the Redis connection kept for publishing."""
        self.publisher.close()

    def _offer(self, before: int, rows: Sequence[Row]) -> None:
        if len(rows) > MAX_ROWS:
            return
        events = self.log.decode(rows)
        if not events or any(event.name == FORGETTING for event in events):
            return
        batch = self.publisher.encode(events)
        if self.publisher.publish(batch, before, _NO_TRIM, exact=True).accepted:
            self.added += batch.size

    def _rest(self, error: Exception) -> None:
        log.warning(
            "write-through: %s: %s; the relay alone publishes for %g s",
            type(error).__name__,
            error,
            self.rest_seconds,
        )
        self._resting_until = self.clock() + self.rest_seconds
