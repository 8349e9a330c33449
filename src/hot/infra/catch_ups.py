"""``CatchUps``: the followers' catch-ups under way on one ``PostgresLog``, for its replicas.

A follower's catch-up is a chain of pages, each read after the position where the
last one ended. With replicas (``hot.infra.replicas``), two things must hold along it:

- Every page of it comes from the same replica (its ``Pin``): another replica, further
  behind, would answer less. Each page also comes from a database that holds the
  position it starts after, so a page is a gapless stretch of the log, whoever answers.
- Where the follower meets Redis, it asks the log (the primary, which holds every
  commit) for the first event after its position; if that one lies before the Redis
  stream's first entry, its next page must include it (``due``): the replica waits for
  it as a read-your-writes read does, and the primary answers if it cannot.

A catch-up is known by the position its next page starts after; ``CatchUps`` hands it
on from page to page. A follower that goes away leaves one entry behind, dropped once
``MOST`` newer ones are kept. Two followers at one position may share an entry: both
are right to read there, and whichever reads first takes it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field

from hot.infra.replicas import Pin

MOST = 1024  # catch-ups remembered at once: far more than one process's open streams


@dataclass
class CatchUp:
    """A catch-up's replica, and a position its next page must include (0: none)."""

    pin: Pin = field(default_factory=Pin)
    due: int = 0


class CatchUps:
    """The catch-ups under way, each under the position its next page starts after."""

    def __init__(self) -> None:
        self._next: OrderedDict[int, CatchUp] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, after: int) -> CatchUp:
        """The catch-up whose next page starts after ``after``, or a new one."""
        with self._lock:
            return self._next.pop(after, None) or CatchUp()

    def hand_on(self, after: int, catch_up: CatchUp) -> None:
        """Keep ``catch_up`` for its next page, after ``after``."""
        with self._lock:
            self._next[after] = catch_up
            self._next.move_to_end(after)
            while len(self._next) > MOST:
                self._next.popitem(last=False)

    def expect(self, after: int, due: int) -> None:
        """The next page after ``after`` must include the event at ``due``."""
        catch_up = self.take(after)
        catch_up.due = max(catch_up.due, due)
        self.hand_on(after, catch_up)
