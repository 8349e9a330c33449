"""Running the blocking application from async handlers, within a deadline.

The application blocks on PostgreSQL, so every call to it runs in a worker thread.
Group commit batches the commands that are in flight at once, so the pool of
threads must be larger than anyio's default of 40: ``raise_thread_limit`` runs at
startup.

While PostgreSQL is unreachable, the library retries a call for the better part of
a minute; a call that outlives the app's deadline is abandoned (its thread runs on)
and answered 503. A command abandoned so may still commit when the database comes
back: a client that retries with the same ``Idempotency-Key`` gets it recorded once.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar
from functools import partial
from typing import Any, TypeVar

import anyio
import anyio.to_thread

T = TypeVar("T")

WORKER_THREADS = 128
DEFAULT_DEADLINE = 15.0

deadline: ContextVar[float] = ContextVar("deadline", default=DEFAULT_DEADLINE)


class DeadlineExceededError(Exception):
    """The application did not answer within the deadline: the database is unreachable."""


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread, or ``DeadlineExceededError``."""
    seconds = deadline.get()
    try:
        with anyio.fail_after(seconds):
            return await anyio.to_thread.run_sync(
                partial(fn, *args, **kwargs), abandon_on_cancel=True
            )
    except TimeoutError:
        raise DeadlineExceededError(f"no answer within {seconds} s") from None


def raise_thread_limit() -> None:
    """Let up to ``WORKER_THREADS`` application calls run at once (call on the event loop)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
