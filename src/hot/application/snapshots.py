"""``SnapshotWriter``: snapshots written in a thread of their own, after the commit.

A human is snapshotted every ``SNAPSHOT_INTERVAL`` versions. Taking the snapshot (a
copy of the state in hand) is cheap and stays in the committer's thread, but encoding,
sealing and inserting it is not: a snapshot holds every day the human attended, and
when many humans reach a snapshot's version together (everyone attends every day, so
they do), writing theirs in the committer held every command waiting behind it for
seconds. Here they are written by one thread, as many at once as have gathered, in one
statement. A snapshot only saves replaying events: one lost to a crash costs nothing
but that replay, and a read meanwhile replays from the one before.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

log = logging.getLogger(__name__)

Write = Callable[[list[Any]], None]  # snapshots, in one statement
Retake = Callable[[UUID, int], None]  # a human's snapshot at a version, state loaded again
CLOSE_SECONDS = 10.0


class SnapshotWriter:
    """Writes what ``submit`` is given with ``write`` (and ``retake``), in its thread."""

    def __init__(self, write: Write, retake: Retake) -> None:
        self._write, self._retake = write, retake
        self._queue: queue.SimpleQueue[tuple[list[Any], list[tuple[UUID, int]]] | None] = (
            queue.SimpleQueue()
        )
        self._thread = threading.Thread(target=self._run, name="hot-snapshots", daemon=True)
        self._thread.start()

    def submit(self, taken: Sequence[Any], retaken: Sequence[tuple[UUID, int]] = ()) -> None:
        """Write the snapshots ``taken``, and take the ``retaken`` (human, version) again
        from their stored events (their state was not in hand)."""
        self._queue.put((list(taken), list(retaken)))

    def close(self, timeout: float = CLOSE_SECONDS) -> None:
        """Write what was submitted, then stop."""
        self._queue.put(None)
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            taken: list[Any] = []
            retaken: list[tuple[UUID, int]] = []
            item = self._queue.get()
            closing = item is None
            while item is not None:
                taken += item[0]
                retaken += item[1]
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                closing = closing or item is None
            self._write_all(taken, retaken)
            if closing:
                return

    def _write_all(self, taken: list[Any], retaken: list[tuple[UUID, int]]) -> None:
        try:
            if taken:
                self._write(taken)
            for human_id, version in retaken:
                self._retake(human_id, version)
        except Exception:  # a snapshot saves work only; the next one is 100 versions on
            log.exception("writing %d snapshot(s) failed", len(taken) + len(retaken))
