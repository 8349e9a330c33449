"""``KnownState``: the aggregates this process knows, kept up with the log.

Commands decide on the state this process last knew, and a read of a human's current
state is answered from it when it is known to be current. What this process commits or
loads it remembers; what any process commits it learns from the log (``learn``, told
by the composition root's commit listener), in log order: a known aggregate one
version behind an event takes the event, one further behind is dropped (the events in
between are missing), one not known is left unknown. ``position`` is how far it has
followed the log (``UNKNOWN`` while it follows nothing): every event up to there is in
the aggregates it knows.

Remembering races with learning (a commit's answer and another process's next event
about the same aggregate), so the latest version learned of each recently changed
aggregate is kept, and a state older than that is never remembered. Callers get
copies: a command that fails half-way cannot corrupt what is known.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from hot.application.decoding import Row

log = logging.getLogger(__name__)

UNKNOWN = -1  # a position below every position of the log

Decode = Callable[[Row], Any]  # a row of the events table to its domain event


class KnownState:
    """Up to ``limit`` aggregates; ``decode`` turns a stored event into its domain event.

    The versions learned are kept for the ``seen_limit`` aggregates changed last: far
    more than can change between a commit (or a load) and its ``remember``.
    """

    def __init__(self, decode: Decode, *, limit: int, seen_limit: int) -> None:
        self._decode = decode
        self._limit = limit
        self._seen_limit = seen_limit
        self._known: OrderedDict[UUID, Any] = OrderedDict()
        self._seen: OrderedDict[UUID, int] = OrderedDict()  # id -> latest version learned
        self._lock = threading.Lock()
        self.position = UNKNOWN

    def get(self, aggregate_id: UUID) -> Any | None:
        """A copy of the aggregate as this process knows it, or None."""
        with self._lock:
            known = self._known.get(aggregate_id)
            if known is None:
                return None
            self._known.move_to_end(aggregate_id)
        return copy.deepcopy(known)

    def remember(self, aggregates: Sequence[Any]) -> None:
        """Know ``aggregates`` as they are now, unless a later version is known or learned."""
        with self._lock:
            for aggregate in aggregates:
                known = self._known.get(aggregate.id)
                newest = self._seen.get(aggregate.id, 0)
                if newest > aggregate.version:
                    self._known.pop(aggregate.id, None)
                elif known is None or known.version < aggregate.version:
                    self._put(aggregate)

    def drop(self, aggregate_id: UUID) -> None:
        """Forget the aggregate: what is known of it is stale."""
        with self._lock:
            self._known.pop(aggregate_id, None)

    def learn(self, rows: Sequence[Row]) -> None:
        """Take in events committed to the log, in log order (see the module docstring)."""
        with self._lock:
            for row in rows:
                self._saw(row.subject, row.sequence)
                known = self._known.get(row.subject)
                if known is not None and known.version < row.sequence:
                    if known.version == row.sequence - 1 and row.state:
                        self._apply(known, row)
                    else:  # events in between are missing, or its state is
                        del self._known[row.subject]
                self.position = max(self.position, row.position)

    def wanted(self, rows: Sequence[Row]) -> list[int]:
        """The positions of the ``rows`` without their states (``Row.state`` empty) that
        ``learn`` would apply: events of aggregates it knows, beyond what it knows."""
        with self._lock:
            return [
                row.position
                for row in rows
                if not row.state
                and (known := self._known.get(row.subject)) is not None
                and known.version < row.sequence
            ]

    def follow_from(self, position: int) -> None:
        """Forget everything known (commits may have been missed), and follow the log from
        ``position``: the log's head when notifications began to arrive again."""
        with self._lock:
            self._known.clear()
            self.position = position

    def lose_track(self) -> None:
        """Notifications stopped arriving: nothing known can be trusted to be current."""
        with self._lock:
            self._known.clear()
            self.position = UNKNOWN

    def _apply(self, known: Any, row: Row) -> None:
        """``known`` with the event applied, or dropped if it cannot be: learning only
        saves loads, so an event that does not decode here (a lost key, say) leaves the
        aggregate to be loaded, and to fail there, where the caller hears why."""
        try:
            self._put(self._decode(row).mutate(copy.deepcopy(known)))
        except Exception:
            log.exception(
                "could not learn event %d; %s is loaded next time", row.position, known.id
            )
            del self._known[known.id]

    def _put(self, aggregate: Any) -> None:
        self._known[aggregate.id] = aggregate
        self._known.move_to_end(aggregate.id)
        if len(self._known) > self._limit:
            self._known.popitem(last=False)

    def _saw(self, aggregate_id: UUID, version: int) -> None:
        self._seen[aggregate_id] = max(version, self._seen.get(aggregate_id, 0))
        self._seen.move_to_end(aggregate_id)
        if len(self._seen) > self._seen_limit:
            self._seen.popitem(last=False)
