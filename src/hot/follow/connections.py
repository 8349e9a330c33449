"""``Connections``: a few PostgreSQL connections for a log reader, lent one at a time.

Smaller than a pool library on purpose: no background threads, nothing to close in
a hurry, and last-in first-out, so a lone reader keeps using the one connection whose
statements PostgreSQL has already prepared. A connection that failed is dropped.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

import psycopg

Conn = psycopg.Connection[tuple[Any, ...]]


class Connections:
    """Up to ``limit`` connections made with ``settings`` (psycopg.connect keywords)."""

    def __init__(self, settings: dict[str, Any], limit: int = 8, timeout: float = 10.0) -> None:
        self.settings = {**settings, "autocommit": True, "connect_timeout": 5}
        self.timeout = timeout
        self._idle: list[Conn] = []
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def connection(self) -> Iterator[Conn]:
        """A connection of its own for the block (waiting ``timeout`` for one if all are lent)."""
        if not self._slots.acquire(timeout=self.timeout):
            raise psycopg.OperationalError("No PostgreSQL connection was free in time.")
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed:
                conn = psycopg.connect(**self.settings)
            try:
                yield conn
            except BaseException:
                conn.close()  # its state is unknown: a fresh one next time
                raise
            if not conn.broken:
                with self._lock:
                    self._idle.append(conn)
        finally:
            self._slots.release()

    def close(self) -> None:
        """Close the idle connections (one lent now is closed when given back)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
