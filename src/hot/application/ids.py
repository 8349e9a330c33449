"""``RandomIds``: random (version 4) UUIDs for new humans and events, drawn many at a time.

``uuid.uuid4`` asks the OS for 16 bytes per id, and ``os.urandom`` lets go of the
interpreter lock for its system call: on the event loop of a busy API process each id
then waits for the lock to come back from the committer's and the listener's threads
(measured: a fifth of the loop's time). One call per ``batch`` ids keeps that wait
off almost every command. An application owns its ``RandomIds``; a process forked
from it draws afresh (the ids held are the parent's).
"""

from __future__ import annotations

import os
from uuid import UUID


class RandomIds:
    """A source of version 4 UUIDs, as ``uuid.uuid4()`` makes them."""

    def __init__(self, batch: int) -> None:
        self._batch = batch
        self._ids: list[UUID] = []
        self._pid = os.getpid()

    def __call__(self) -> UUID:
        """A new random id."""
        if self._pid != os.getpid():  # a forked child must not hand out its parent's
            self._ids, self._pid = [], os.getpid()
        try:
            return self._ids.pop()  # atomic: threads never take the same id
        except IndexError:
            random = os.urandom(16 * self._batch)
            self._ids = [
                UUID(bytes=random[i : i + 16], version=4) for i in range(0, len(random), 16)
            ]
            return self._ids.pop()
