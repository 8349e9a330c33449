"""``WorkerThreads``: the application's blocking work, run off the event loop, in time.

``eventsourcing`` is synchronous: loading aggregates, reading the log and looking up
idempotency records block on PostgreSQL, so the application runs them in a pool of
threads of its own (made with it, shut down by its ``close``). A call that outlives
the deadline is abandoned (its thread runs on) and raises ``DeadlineExceededError``:
while PostgreSQL is unreachable the library retries for the better part of a minute,
and the caller is answered before that.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import Any, TypeVar

from hot.application.errors import DeadlineExceededError

T = TypeVar("T")


class WorkerThreads:
    """Up to ``count`` threads; every call answers within ``deadline`` seconds."""

    def __init__(self, count: int, deadline: float) -> None:
        self.deadline = deadline
        self._executor = ThreadPoolExecutor(count, thread_name_prefix="hot-worker")

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` in a worker thread, or ``DeadlineExceededError``."""
        call = asyncio.get_running_loop().run_in_executor(
            self._executor, partial(fn, *args, **kwargs)
        )
        try:
            return await asyncio.wait_for(call, self.deadline)
        except TimeoutError:
            raise DeadlineExceededError(f"no answer within {self.deadline} s") from None

    def close(self) -> None:
        """Stop taking work; calls under way finish in their threads."""
        self._executor.shutdown(wait=False, cancel_futures=True)
