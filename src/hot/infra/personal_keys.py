"""The per-human keys that encrypt personal data, in a table apart from the events.

A row per human: its AES-256 key, or NULL and ``destroyed_at`` once the human is
forgotten (destroyed in the transaction that records ``HUMAN_FORGOTTEN``, see
``HotRecorder``). A human with events but no row means the table was lost: reads
raise ``PersonalKeyMissingError`` rather than serve garbage.

Keys are cached per process. The forgetting transaction also notifies
(``pg_notify``) every process: each key store LISTENs on a connection of its own and
drops a destroyed key from its cache as soon as the forgetting commits. The short
cache lifetime stays as a safety net (a notification missed while the listening
connection was down: on reconnecting, the whole cache is dropped too).

The table also holds the server secret that keys the email claims' HMAC.

Connections: the store's queries go through a small ``psycopg_pool`` pool of its own
(``hot-personal-keys``), opened with the store and closed by ``close``. The LISTEN runs
on a dedicated connection (``hot-personal-keys-listener``), never a pooled one: a
LISTEN belongs to its session, which must live as long as the store listens.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from hot.application.personal import PersonalKeyMissingError
from hot.infra.database import small_pool
from hot.tuning import (
    PERSONAL_KEY_CACHE_SECONDS,
    PERSONAL_KEY_CONNECTIONS,
    PERSONAL_KEY_LISTEN_START_SECONDS,
)

log = logging.getLogger(__name__)

KEYS_TABLE = "hot_personal_keys"
DESTROYED_CHANNEL = "hot_personal_key_destroyed"  # payload: the human's id
SECRET_ID = UUID(int=0)  # the row holding the server secret
POOL_NAME = "hot-personal-keys"  # the pool's connections' application_name
LISTENER_NAME = "hot-personal-keys-listener"  # the listening connection's (and thread's)

SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {KEYS_TABLE} (
    human_id uuid PRIMARY KEY,
    key bytea,
    created_at timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz
)
"""


class PostgresPersonalKeyStore:
    """Per-human keys in PostgreSQL, with an in-process cache that destroyed keys leave
    at once (``listen``), or within ``cache_seconds`` at the latest."""

    def __init__(
        self,
        database_url: str,
        cache_seconds: float = PERSONAL_KEY_CACHE_SECONDS,
        *,
        listen: bool = True,
    ) -> None:
        self._url = database_url
        self._cache_seconds = cache_seconds
        self._cache: dict[UUID, tuple[float, bytes | None]] = {}
        self._new: dict[UUID, bytes] = {}  # made for new humans, not yet committed
        self._lock = threading.Lock()
        self._pool = small_pool(database_url, POOL_NAME, PERSONAL_KEY_CONNECTIONS)
        # Bumped by every invalidation: a key read before it is not cached after it.
        self._epoch = 0
        self._closed = threading.Event()
        self.listening = threading.Event()  # set while notifications are being received
        try:
            self._run(SCHEMA)
        except BaseException:
            self._pool.close()
            raise
        self._listener: threading.Thread | None = None
        if listen:
            self._listener = threading.Thread(target=self._listen, name=LISTENER_NAME, daemon=True)
            self._listener.start()
            # Keys cached before the first LISTEN are dropped by it (a forgetting may have
            # been missed): start with the listener up, so that a first page's prefetched
            # keys are not lost to it. Not up in time: the store works, the cache's short
            # lifetime covers it, and the listener keeps trying.
            if not self.listening.wait(PERSONAL_KEY_LISTEN_START_SECONDS):
                log.warning("personal keys: not listening yet; keys cached meanwhile may go")

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The store's pool (its use is sampled into metrics)."""
        return self._pool

    @property
    def listens(self) -> bool:
        """Whether this store listens for forgettings (a thread and a connection of its own)."""
        return self._listener is not None

    def close(self) -> None:
        """Stop listening (closing the listening connection) and close the pool."""
        self._closed.set()
        if self._listener is not None:
            self._listener.join(5)
        self._pool.close()

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

    def settle(self, human_id: UUID) -> None:
        with self._lock:
            self._new.pop(human_id, None)

    def prefetch(self, human_ids: Iterable[UUID]) -> None:
        now = time.monotonic()
        wanted = [h for h in set(human_ids) if self._cache.get(h, (0.0, None))[0] <= now]
        if not wanted:
            return
        epoch = self._epoch
        # %b: the ids go as a binary uuid[] (as text, psycopg quotes each with a regex).
        rows = self._run(
            f"SELECT human_id, key FROM {KEYS_TABLE} WHERE human_id = ANY(%b)", (wanted,)
        )
        with self._lock:
            if self._epoch != epoch:
                return  # a key may have been destroyed since it was read: read it again
            for human_id, key in rows:
                self._cache[human_id] = (now + self._cache_seconds, _bytes_or_none(key))

    def key_column(self, human_id: str) -> str:
        """An SQL expression, for a query on this store's database, that reads the key of
        the human whose id is ``human_id`` (an SQL expression too): the key; empty once
        destroyed; NULL when the human has no row (the table was lost). Read ``epoch``
        just before such a query: if it changed since, a key it read may be destroyed."""
        return (
            f"(SELECT coalesce(k.key, ''::bytea) FROM {KEYS_TABLE} AS k "
            f"WHERE k.human_id = {human_id})"
        )

    @property
    def epoch(self) -> int:
        """Bumped by every invalidation (a key destroyed, or notifications maybe missed)."""
        return self._epoch

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
        epoch = self._epoch
        rows = self._run(f"SELECT key FROM {KEYS_TABLE} WHERE human_id = %s", (human_id,))
        if not rows:
            raise PersonalKeyMissingError(human_id)
        key = _bytes_or_none(rows[0][0])
        with self._lock:
            if self._epoch == epoch:
                self._cache[human_id] = (now + self._cache_seconds, key)
        return key

    def forget_cached(self, human_id: UUID) -> None:
        with self._lock:
            self._epoch += 1
            self._cache.pop(human_id, None)

    def _forget_all_cached(self) -> None:
        with self._lock:
            self._epoch += 1
            self._cache.clear()

    def _listen(self) -> None:
        """Receive the forgettings' notifications until ``close``, reconnecting after errors."""
        while not self._closed.is_set():
            try:
                with psycopg.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=5,
                    application_name=LISTENER_NAME,
                ) as conn:
                    conn.execute(f"LISTEN {DESTROYED_CHANNEL}")
                    self._forget_all_cached()  # what was missed before listening
                    self.listening.set()
                    while not self._closed.is_set():
                        for notification in conn.notifies(timeout=0.5):
                            self.forget_cached(UUID(notification.payload))
            except (psycopg.Error, ValueError) as error:
                if self._closed.is_set():
                    break
                log.warning("personal keys: not listening (%s); again in 1s", error)
            finally:
                self.listening.clear()
            self._forget_all_cached()  # notifications may have been missed meanwhile
            self._closed.wait(1.0)

    def _run(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one statement on a pooled connection. One that PostgreSQL dropped (a
        restart, ``pg_terminate_backend``) fails it: the pool's idle connections are
        checked then (the dead ones go) and the statement is run again once."""
        for attempt in (1, 2):
            try:
                with self._pool.connection() as conn:
                    cursor = conn.execute(statement, params)
                    return cursor.fetchall() if cursor.description else []
            except PoolTimeout:
                raise  # every connection busy, or none made in time: no dead one to drop
            except psycopg.OperationalError:
                if attempt == 2:
                    raise
                self._pool.check()
        raise AssertionError("unreachable")  # pragma: no cover


def _bytes_or_none(value: Any) -> bytes | None:
    return bytes(value) if value is not None else None


def destroy_keys_statement() -> str:
    """The statement ``HotRecorder`` runs in the forgetting transaction: it destroys the
    keys and notifies every key store (delivered when, and only if, the forgetting commits)."""
    return (
        f"WITH destroyed AS (UPDATE {KEYS_TABLE} SET key = NULL, destroyed_at = now() "
        "WHERE human_id = ANY(%s) RETURNING human_id) "
        f"SELECT pg_notify('{DESTROYED_CHANNEL}', human_id::text) FROM destroyed"
    )


def insert_keys_statement() -> str:
    """The statement ``HotRecorder`` runs in the transaction that registers new humans."""
    return f"INSERT INTO {KEYS_TABLE} (human_id, key) VALUES (%s, %s) ON CONFLICT DO NOTHING"
