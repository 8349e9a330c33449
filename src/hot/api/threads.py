"""Running the blocking application from async handlers, within a deadline.

The application blocks on PostgreSQL, so every call to it runs in a worker thread of
one pool of ``WORKER_THREADS``: group commit batches the commands in flight at once,
so there must be many more threads than anyio's default of 40. A plain executor is
used rather than ``anyio.to_thread``: the hop to a thread and back is the API's main
cost per command, and this one costs less.

While PostgreSQL is unreachable, the library retries a call for the better part of
a minute; a call that outlives the deadline is abandoned (its thread runs on) and
answered 503. A command abandoned so may still commit when the database comes back:
a client that retries with the same ``Idempotency-Key`` gets it recorded once.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar

T = TypeVar("T")

WORKER_THREADS = 128
DEFAULT_DEADLINE = 15.0

deadline: ContextVar[float] = ContextVar("deadline", default=DEFAULT_DEADLINE)
_executor: ThreadPoolExecutor | None = None
_lock = threading.Lock()


class DeadlineExceededError(Exception):
    """The application did not answer within the deadline: the database is unreachable."""


def executor() -> ThreadPoolExecutor:
    """The process's pool of worker threads for application calls, made on first use."""
    global _executor
    with _lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(WORKER_THREADS, thread_name_prefix="hot-api")
        return _executor


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread, or ``DeadlineExceededError``."""
    seconds = deadline.get()
    call = asyncio.get_running_loop().run_in_executor(executor(), partial(fn, *args, **kwargs))
    try:
        return await asyncio.wait_for(call, seconds)
    except TimeoutError:
        raise DeadlineExceededError(f"no answer within {seconds} s") from None


async def on_loop(
    command: Callable[..., Awaitable[T]], *args: Any, otherwise: Callable[[], T], **kwargs: Any
) -> T:
    """A command of ``hot.application.loop_commands``, which decides on the event loop
    what it can and hands ``otherwise`` (run here in a worker thread) the rest; either
    way within the deadline, or ``DeadlineExceededError``."""
    seconds = deadline.get()
    try:
        return await command(
            *args, **kwargs, deadline=seconds, otherwise=partial(in_thread, otherwise)
        )
    except TimeoutError:
        raise DeadlineExceededError(f"no answer within {seconds} s") from None
