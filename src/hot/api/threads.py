"""Running the blocking application from async handlers.

The application blocks on PostgreSQL, so every call to it runs in a worker thread.
Group commit batches the commands that are in flight at once, so the pool of
threads must be larger than anyio's default of 40: ``raise_thread_limit`` runs at
startup.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any, TypeVar

import anyio.to_thread

T = TypeVar("T")

WORKER_THREADS = 128


async def in_thread(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a worker thread."""
    return await anyio.to_thread.run_sync(partial(fn, *args, **kwargs))


def raise_thread_limit() -> None:
    """Let up to ``WORKER_THREADS`` application calls run at once (call on the event loop)."""
    anyio.to_thread.current_default_thread_limiter().total_tokens = WORKER_THREADS
