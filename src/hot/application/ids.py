"""Random bytes from the OS drawn many at a time: new ids, and the nonces that seal.

``uuid.uuid4`` asks the OS for 16 bytes per id, and ``os.urandom`` lets go of the
interpreter lock for its system call: on the event loop of a busy API process each id
then waits for the lock to come back from the committer's and the listener's threads
(measured: a fifth of the loop's time). The committer's thread waits the same way for
each nonce it seals personal data with, while the event loop holds the lock (measured:
28 µs a sealed team event, seven times what sealing costs). One call per ``batch``
draws keeps that wait off almost every command. Each draw comes from the OS's
cryptographic source, as ``os.urandom`` gives it, and is handed out once. A process
forked from the owner draws afresh (the draws held are the parent's).
"""

from __future__ import annotations

import os
from uuid import UUID


class RandomDraws:
    """Random byte strings of ``size`` bytes each, never one handed out twice."""

    def __init__(self, size: int, batch: int) -> None:
        self._size = size
        self._batch = batch
        self._draws: list[bytes] = []
        self._pid = os.getpid()

    def __call__(self) -> bytes:
        """New random bytes."""
        if self._pid != os.getpid():  # a forked child must not hand out its parent's
            self._draws, self._pid = [], os.getpid()
        try:
            return self._draws.pop()  # atomic: threads never take the same draw
        except IndexError:
            size = self._size
            random = os.urandom(size * self._batch)
            self._draws = [random[i : i + size] for i in range(0, len(random), size)]
            return self._draws.pop()


class RandomIds:
    """A source of version 4 UUIDs, as ``uuid.uuid4()`` makes them."""

    def __init__(self, batch: int) -> None:
        self._draw = RandomDraws(16, batch)

    def __call__(self) -> UUID:
        """A new random id."""
        return UUID(bytes=self._draw(), version=4)
