"""The per-human keys that encrypt personal data, in a table apart from the events.

A row per human: its AES-256 key, or NULL and ``destroyed_at`` once the human is
forgotten (destroyed in the transaction that records ``HUMAN_FORGOTTEN``, see
``HotRecorder``). A human with events but no row means the table was lost: reads
raise ``PersonalKeyMissingError`` rather than serve garbage. Keys are cached for a
short time per process; a destroyed key stops being served everywhere within that
time (at once in the process that forgot, and in any process that reads the
``HUMAN_FORGOTTEN`` event).

The table also holds the server secret that keys the email claims' HMAC.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import psycopg

from hot.application.personal import PersonalKeyMissingError

KEYS_TABLE = "hot_personal_keys"
SECRET_ID = UUID(int=0)  # the row holding the server secret
CACHE_SECONDS = 2.0

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (
    human_id uuid PRIMARY KEY,
    key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz
)
"""


class PostgresPersonalKeys:
    """Per-human keys in PostgreSQL, with a short in-process cache."""

    def __init__(self, database_url: str, cache_seconds: float = CACHE_SECONDS) -> None:
        self._url = database_url
        self._cache_seconds = cache_seconds
        self._cache: dict[UUID, tuple[float, bytes | None]] = {}
        self._new: dict[UUID, bytes] = {}  # made for new humans, not yet committed
        self._lock = threading.Lock()
        self._local = threading.local()
        self._run(SCHEMA)

    def server_secret(self) -> bytes:
        """A random secret made once per database, kept in the key table."""
        self._run(insert_keys_statement(), (SECRET_ID, os.urandom(32)))
        rows = self._run(f"SELECT key FROM {KEYS_TABLE} WHERE human_id = %s", (SECRET_ID,))
        if not rows or rows[0][0] is None:
            raise PersonalKeyMissingError(SECRET_ID)
        return bytes(rows[0][0])

    def new_key(self, human_id: UUID) -> bytes:
        key = os.urandom(32)
        with self._lock:
            self._new[human_id] = key
            self._cache[human_id] = (time.monotonic() + self._cache_seconds, key)
        return key

    def uncommitted(self, human_id: UUID) -> list[tuple[UUID, bytes]]:
        with self._lock:
            key = self._new.get(human_id)
        return [] if key is None else [(human_id, key)]

    def settle(self, human_id: UUID) -> None:
        with self._lock:
            self._new.pop(human_id, None)

    def prefetch(self, human_ids: Iterable[UUID]) -> None:
        now = time.monotonic()
        wanted = [h for h in set(human_ids) if self._cache.get(h, (0.0, None))[0] <= now]
        if not wanted:
            return
        rows = self._run(
            f"SELECT human_id, key FROM {KEYS_TABLE} WHERE human_id = ANY(%s)", (wanted,)
        )
        with self._lock:
            for human_id, key in rows:
                self._cache[human_id] = (now + self._cache_seconds, _bytes_or_none(key))

    def key_for_writing(self, human_id: UUID, *, create: bool) -> bytes | None:
        with self._lock:
            new = self._new.get(human_id)
        if new is not None:
            return new
        if create:  # a human saved directly, not through a command: make its key now
            self._run(insert_keys_statement(), (human_id, os.urandom(32)))
            self.forget_cached(human_id)  # read back the key that was stored
        return self.key_for_reading(human_id)

    def key_for_reading(self, human_id: UUID) -> bytes | None:
        now = time.monotonic()
        cached = self._cache.get(human_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        rows = self._run(f"SELECT key FROM {KEYS_TABLE} WHERE human_id = %s", (human_id,))
        if not rows:
            raise PersonalKeyMissingError(human_id)
        key = _bytes_or_none(rows[0][0])
        with self._lock:
            self._cache[human_id] = (now + self._cache_seconds, key)
        return key

    def forget_cached(self, human_id: UUID) -> None:
        with self._lock:
            self._cache.pop(human_id, None)

    def _run(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on this thread's connection; a connection PostgreSQL dropped
        (a restart, ``pg_terminate_backend``) is replaced and the statement run again once.
        """
        for attempt in (1, 2):
            conn = self._connection()
            try:
                cursor = conn.execute(statement, params)
                return cursor.fetchall() if cursor.description else []
            except psycopg.OperationalError:
                conn.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        """A connection of this thread's own, opened on first use and reopened if closed."""
        conn: psycopg.Connection[tuple[Any, ...]] | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            self._local.conn = conn
        return conn


def _bytes_or_none(value: Any) -> bytes | None:
    return bytes(value) if value is not None else None


def destroy_keys_statement() -> str:
    """The statement ``HotRecorder`` runs in the forgetting transaction."""
    return f"UPDATE {KEYS_TABLE} SET key = NULL, destroyed_at = now() WHERE human_id = ANY(%s)"


def insert_keys_statement() -> str:
    """The statement ``HotRecorder`` runs in the transaction that registers new humans."""
    return f"INSERT INTO {KEYS_TABLE} (human_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
