"""``LogHead``: the log's head as it is after a caller asks, one read shared by many.

A read of a human's state must see every write committed before the read began, so it
needs the log's head as it stood at some moment after it began. Readers that ask while
a read of the head is under way cannot take its answer (it may have begun before they
did): they share the next one, which begins when that one ends. Under load, one read
of the head answers a whole turn of readers.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from dataclasses import dataclass

from hot.application.threads import WorkerThreads


@dataclass
class _Reads:
    """The read of the head under way on one event loop, and the one to begin after it."""

    running: asyncio.Future[int] | None = None
    following: asyncio.Future[int] | None = None


class LogHead:
    """The head as ``read`` (blocking) reads it, in ``threads``."""

    def __init__(self, read: Callable[[], int], threads: WorkerThreads) -> None:
        self._read = read
        self._threads = threads
        self._reads: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reads] = (
            weakref.WeakKeyDictionary()
        )

    async def after_now(self) -> int:
        """The log's head, read after this call began."""
        reads = self._reads.setdefault(asyncio.get_running_loop(), _Reads())
        task: asyncio.Future[int]
        if reads.running is None:
            task = reads.running = asyncio.ensure_future(self._read_after(reads, None))
        else:
            if reads.following is None:
                reads.following = asyncio.ensure_future(self._read_after(reads, reads.running))
            task = reads.following
        return await asyncio.shield(task)

    async def _read_after(self, reads: _Reads, previous: asyncio.Future[int] | None) -> int:
        this = asyncio.current_task()
        if previous is not None:
            await asyncio.wait([previous])  # its outcome is its own callers'
            reads.running, reads.following = reads.following, None
        try:
            return await self._threads.run(self._read)
        finally:
            if reads.running is this:
                reads.running = None
