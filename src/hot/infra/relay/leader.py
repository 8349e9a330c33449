"""One active relay: a PostgreSQL session advisory lock, on a connection that LISTENs.

Any number of relays may run; the one holding the lock publishes, the others retry it
every so often. The lock belongs to the session, so it is released the moment that
connection dies (a crash, a kill -9, ``pg_terminate_backend``), and a waiting relay
takes over within one retry interval. The same connection LISTENs for new events:
when it breaks, the relay learns at once that it may no longer be the leader.
"""

from __future__ import annotations

import threading
import time
import zlib

import psycopg
from psycopg import sql

from hot.tuning import RELAY_STOP_CHECK_SECONDS

# The lock's first key says "a HoT relay"; the second which prefix it publishes to,
# so relays publishing to different prefixes do not wait for each other.
LOCK_CLASS = 0x484F54  # "HOT"


def lock_keys(prefix: str) -> tuple[int, int]:
    """The two int4 keys of the advisory lock of the relay for ``prefix``."""
    return LOCK_CLASS, zlib.crc32(prefix.encode()) & 0x7FFFFFFF


class Leadership:
    """The advisory lock of the relay for ``prefix``, and the notifications of ``channel``.

    ``keys`` takes another lock instead (the SQL read projector's, say), and
    ``application_name`` names the connection as ``pg_stat_activity`` shows it.
    """

    def __init__(
        self,
        database_url: str,
        prefix: str,
        channel: str,
        *,
        keys: tuple[int, int] | None = None,
        application_name: str = "hot-relay",
    ) -> None:
        self.database_url = database_url
        self.lock_keys = keys or lock_keys(prefix)
        self.channel = channel
        self.application_name = application_name
        self._conn: psycopg.Connection[tuple[object, ...]] | None = None
        self.held = False

    def try_acquire(self) -> bool:
        """Take the lock if it is free (connecting first if need be); LISTEN once held."""
        if self.held:
            return True
        conn = self._connection()
        row = conn.execute("SELECT pg_try_advisory_lock(%s, %s)", self.lock_keys).fetchone()
        if row is None or not row[0]:
            return False
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        self.held = True
        return True

    @property
    def connection(self) -> psycopg.Connection[tuple[object, ...]]:
        """The lock's connection (autocommit), for the holder's own queries."""
        if not self.held or self._conn is None:
            raise RuntimeError("The relay's lock is not held.")
        return self._conn

    def wait(self, timeout: float, stopping: threading.Event) -> list[str] | None:
        """Wait up to ``timeout`` s for new-event notifications: the payloads of every one
        received by then, oldest first; None if none came.

        Returns early (an empty list) once ``stopping`` is set. Raises
        ``psycopg.OperationalError`` when the connection (and so the lock) is lost.

        It returns as soon as data arrives, with every notification in it (and any that
        came meanwhile, during a query on the connection): no second look at the socket
        for more, which costs a poll on the latency path of each notification; what
        arrives a moment later is the next call's, at once.
        """
        conn = self._connection()
        deadline = time.monotonic() + timeout
        while not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None
            slice_ = min(remaining, RELAY_STOP_CHECK_SECONDS)
            payloads = [n.payload for n in conn.notifies(timeout=slice_, stop_after=1)]
            if payloads:
                return payloads
        return []

    def drain(self) -> None:
        """Forget notifications already received, and check that the lock's connection lives."""
        conn = self._connection()
        for _ in conn.notifies(timeout=0):
            pass
        if conn.closed or conn.broken:
            raise psycopg.OperationalError("The relay's lock connection was lost.")

    def close(self) -> None:
        """Drop the connection, and with it the lock."""
        self.held = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection[tuple[object, ...]]:
        if self._conn is None or self._conn.closed:
            self.held = False
            self._conn = psycopg.connect(
                self.database_url,
                autocommit=True,
                connect_timeout=5,
                application_name=self.application_name,
                # Notice a silently dead server within seconds, not hours.
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
            )
        return self._conn


def lock_holder(
    database_url: str, prefix: str, *, keys: tuple[int, int] | None = None
) -> int | None:
    """The backend pid of the active relay for ``prefix`` in that database, if one runs
    (of the holder of the lock ``keys``, if given)."""
    with psycopg.connect(database_url, autocommit=True, connect_timeout=5) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND classid = %s::int8::oid AND objid = %s::int8::oid AND objsubid = 2",
            keys or lock_keys(prefix),
        ).fetchone()
    return None if row is None else int(str(row[0]))
