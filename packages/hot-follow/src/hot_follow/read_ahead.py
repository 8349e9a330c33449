"""``ReadAhead``: the next page is fetched from PostgreSQL while this one is decoded.

A catch-up alternates between waiting for PostgreSQL and decoding in Python. psycopg
releases the interpreter lock while it waits for the server, so one thread of its own
can fetch page N+1 while the reader decodes page N, and the waits mostly vanish.

At most one fetch is ahead (one page in memory besides the reader's). A prefetched
page is handed out only for exactly the request it was made for; anything else is
fetched now, and the stale one dropped. A prefetched page is what the same query
would have answered when it ran: full pages never change (positions are committed in
order), a short one is the log's end as it was a moment ago, which the reader's next
request reads past. An error of a fetch ahead is raised to the reader that asks for
that page, never lost and never raised elsewhere. ``close`` waits for a fetch under
way and stops the thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

Request = TypeVar("Request", bound=Hashable)
Page = TypeVar("Page")


class ReadAhead(Generic[Request, Page]):
    """Answers ``fetch(request)``, from a fetch started ahead when there is one for it."""

    def __init__(self, fetch: Callable[[Request], Page]) -> None:
        self._fetch = fetch
        self._lock = threading.Lock()
        self._ahead: tuple[Request, Future[Page]] | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._closed = False

    def get(self, request: Request) -> Page:
        """What ``fetch(request)`` answers (or raises)."""
        with self._lock:
            ahead, self._ahead = self._ahead, None
        if ahead is not None:
            if ahead[0] == request:
                return ahead[1].result()
            ahead[1].cancel()  # not started yet: never runs; under way: its answer is dropped
        return self._fetch(request)

    def prefetch(self, request: Request) -> None:
        """Start fetching ``request`` in the background, for the next ``get``."""
        with self._lock:
            if self._closed:
                return
            if self._ahead is not None:
                self._ahead[1].cancel()
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="hot-read-ahead")
            self._ahead = (request, self._thread.submit(self._fetch, request))

    def close(self) -> None:
        """Drop what was fetched ahead and stop the thread (after a fetch under way)."""
        with self._lock:
            self._closed = True
            ahead, self._ahead = self._ahead, None
            thread, self._thread = self._thread, None
        if ahead is not None:
            ahead[1].cancel()
        if thread is not None:
            thread.shutdown(wait=True, cancel_futures=True)
