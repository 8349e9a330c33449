"""``ApiKeyStore``: bearer tokens with scopes, kept in PostgreSQL only as SHA-256 hashes.

A token is shown once, when it is created; the table holds its hash, its name and its
scopes. Verification hashes the presented token and compares the stored hash with
``hmac.compare_digest``. Verified answers (good and bad) are cached in the process for
``cache_seconds``: a revoked token keeps working in a running server for at most that
long. A verified token yields a ``Grant``: its key's name (who did it, e.g. who forgot
a human) and its scopes.

The store queries through a small ``psycopg_pool`` pool of its own (``hot-api-keys``),
opened with it and closed by ``close`` (or at the end of a ``with`` block): whoever
makes a store closes it. A connection is checked before each use (queries are rare,
most tokens being cached), so that none PostgreSQL dropped fails a request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hot.infra.database import small_pool
from hot.tuning import API_KEY_CACHE_LIMIT, API_KEY_CONNECTIONS

TOKEN_PREFIX = "hot_"
POOL_NAME = "hot-api-keys"  # the pool's connections' application_name

_SCHEMA = """
CREATE TABLE IF NOT EXISTS hot_api_keys (
    name text PRIMARY KEY,
    token_sha256 bytea NOT NULL UNIQUE,
    scopes text[] NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)
"""
_SCHEMA_LOCK = 0x686F745F6B657973  # "hot_keys": serialises concurrent CREATE TABLEs


class Scope(StrEnum):
    """What a token may do; ``admin`` implies every other scope.

    ``personal`` adds nothing to call: it lets a reader see personal fields (names,
    emails, reasons for leaving), which readers without it see masked.
    """

    READ = "read"
    WRITE = "write"
    PERSONAL = "personal"
    CATALOG = "catalog"  # register teams' event types and their versions
    ADMIN = "admin"


class KeyExistsError(ValueError):
    """A key of this name already exists: revoke it first."""


class KeyNotFoundError(LookupError):
    """No key has this name."""


@dataclass(frozen=True)
class ApiKey:
    """A key as listed: never its token."""

    name: str
    scopes: frozenset[Scope]
    created_at: datetime


@dataclass(frozen=True)
class Grant:
    """What a verified token is: the name of its key, and the scopes it was granted."""

    name: str
    scopes: frozenset[Scope]


def allows(granted: frozenset[Scope], needed: Scope) -> bool:
    """Whether scopes ``granted`` permit an operation that needs ``needed``."""
    return Scope.ADMIN in granted or needed in granted


def token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()


class ApiKeyStore:
    """Creates, lists, revokes and verifies API keys in the database at ``database_url``."""

    def __init__(self, database_url: str, *, cache_seconds: float = 5.0) -> None:
        self.cache_seconds = cache_seconds
        self._cache: dict[bytes, tuple[float, Grant | None]] = {}
        self._lock = threading.Lock()
        self._pool = small_pool(database_url, POOL_NAME, API_KEY_CONNECTIONS, checked=True)
        try:
            with self._transaction() as conn:
                conn.execute("SELECT pg_advisory_xact_lock(%s)", (_SCHEMA_LOCK,))
                conn.execute(_SCHEMA)
        except BaseException:
            self._pool.close()
            raise

    @property
    def pool(self) -> ConnectionPool[Any]:
        """The store's pool (its use is sampled into metrics)."""
        return self._pool

    def close(self) -> None:
        """Close the store's connections."""
        self._pool.close()

    def __enter__(self) -> ApiKeyStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        """A pooled connection in a transaction, for the block."""
        with self._pool.connection() as conn, conn.transaction():
            yield conn

    def create(self, name: str, scopes: Iterable[Scope | str]) -> str:
        """A new key called ``name``; returns its token, which is not stored anywhere."""
        granted = sorted({Scope(s) for s in scopes})
        if not name.strip() or not granted:
            raise ValueError("A key needs a name and at least one scope.")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self._pool.connection() as conn:
            inserted = conn.execute(
                "INSERT INTO hot_api_keys (name, token_sha256, scopes) VALUES (%s, %s, %s) "
                "ON CONFLICT (name) DO NOTHING",
                (name, token_hash(token), [str(s) for s in granted]),
            ).rowcount
        if not inserted:
            raise KeyExistsError(f"A key named {name!r} already exists.")
        return token

    def create_first_admin(self, name: str = "admin") -> str | None:
        """An admin token if the store holds no key yet (first start), else None."""
        with self._transaction() as conn:
            conn.execute("LOCK TABLE hot_api_keys IN EXCLUSIVE MODE")
            if conn.execute("SELECT 1 FROM hot_api_keys LIMIT 1").fetchone():
                return None
            token = TOKEN_PREFIX + secrets.token_urlsafe(32)
            conn.execute(
                "INSERT INTO hot_api_keys (name, token_sha256, scopes) VALUES (%s, %s, %s)",
                (name, token_hash(token), [str(Scope.ADMIN)]),
            )
        return token

    def list_keys(self) -> list[ApiKey]:
        """Every key, by name (without tokens)."""
        with self._pool.connection() as conn:
            rows = conn.execute(
                "SELECT name, scopes, created_at FROM hot_api_keys ORDER BY name"
            ).fetchall()
        return [ApiKey(str(n), _scopes(s), c) for n, s, c in rows]

    def revoke(self, name: str) -> None:
        """Delete the key; servers stop accepting it within ``cache_seconds``."""
        with self._pool.connection() as conn:
            deleted = conn.execute("DELETE FROM hot_api_keys WHERE name = %s", (name,)).rowcount
        if not deleted:
            raise KeyNotFoundError(f"No key named {name!r}.")
        with self._lock:
            self._cache.clear()

    def cached(self, token: str) -> tuple[bool, Grant | None]:
        """``(hit, grant)`` from the in-process cache: no I/O, safe on an event loop."""
        entry = self._cache.get(token_hash(token))
        if entry is None or entry[0] < time.monotonic():
            return False, None
        return True, entry[1]

    def verify(self, token: str) -> frozenset[Scope] | None:
        """The scopes of ``token``, or None if no key has it (blocking: call from a thread)."""
        grant = self.identify(token)
        return None if grant is None else grant.scopes

    def identify(self, token: str) -> Grant | None:
        """The key ``token`` belongs to, or None if none (blocking: call from a thread)."""
        hit, grant = self.cached(token)
        if hit:
            return grant
        digest = token_hash(token)
        with self._pool.connection() as conn:
            row = conn.execute(
                "SELECT token_sha256, scopes, name FROM hot_api_keys WHERE token_sha256 = %s",
                (digest,),
            ).fetchone()
        found = None
        if row is not None and hmac.compare_digest(bytes(row[0]), digest):
            found = Grant(str(row[2]), _scopes(row[1]))
        with self._lock:
            if len(self._cache) >= API_KEY_CACHE_LIMIT:
                self._cache.clear()
            self._cache[digest] = (time.monotonic() + self.cache_seconds, found)
        return found


def _scopes(values: Iterable[str]) -> frozenset[Scope]:
    known = {s.value for s in Scope}
    return frozenset(Scope(v) for v in values if v in known)
