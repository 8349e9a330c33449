"""PostgreSQL wiring: turning a postgresql:// URL into ``eventsourcing`` settings."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import psycopg
from psycopg import sql

from hot.infra.pools import QuickPool
from hot.tuning import EVENTS_POOL_IDLE, EVENTS_POOL_MORE
from hot_follow.pools import Pool
from hot_follow.pools import small_pool as store_pool  # HoT's stores share a store's recipe

RECORDER_TOPIC = "hot.infra.recorder:HotRecorder"
QUICK_FACTORY = "hot.infra.pools:QuickPostgresFactory"  # its pool gets over a restart quickly


def eventsourcing_env(database_url: str) -> dict[str, str]:
    """The environment ``eventsourcing.postgres`` reads, for the server at ``database_url``.

    A ``host`` query parameter (a socket directory) wins over the URL's host, as in libpq.
    """
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    host = query.get("host", [parts.hostname or "localhost"])[0]
    return {
        "PERSISTENCE_MODULE": QUICK_FACTORY,
        "APPLICATION_RECORDER_TOPIC": RECORDER_TOPIC,
        "POSTGRES_DBNAME": unquote(parts.path.lstrip("/")) or "postgres",
        "POSTGRES_HOST": host,
        "POSTGRES_PORT": str(parts.port or 5432),
        "POSTGRES_USER": unquote(parts.username or "postgres"),
        "POSTGRES_PASSWORD": unquote(parts.password or ""),
        "POSTGRES_CONNECT_TIMEOUT": "5",
        "POSTGRES_POOL_SIZE": str(EVENTS_POOL_IDLE),
        "POSTGRES_MAX_OVERFLOW": str(EVENTS_POOL_MORE),
        "POSTGRES_PRE_PING": "y",
        "POSTGRES_LOCK_TIMEOUT": "10",
    }


def small_pool(database_url: str, name: str, size: int, *, checked: bool = False) -> Pool:
    """A store's pool (``hot_follow.pools.small_pool``) for one of HoT's own tables: a
    ``QuickPool``, quick to fail while PostgreSQL is down, and to recover."""
    return store_pool(database_url, name, size, checked=checked, kind=QuickPool)


SCHEMA_LOCK = 0x686F745F736368  # "hot_sch": one process at a time creates HoT's tables


@contextmanager
def schema_lock(database_url: str) -> Iterator[psycopg.Connection[Any]]:
    """Hold a session advisory lock while creating tables: processes starting at once
    (several workers, a CLI beside the server) otherwise race on ``eventsourcing``'s
    ``CREATE OR REPLACE FUNCTION`` and fail with "tuple concurrently updated".
    Yields the lock's connection (autocommit), for creating tables of HoT's own.
    """
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (SCHEMA_LOCK,))
        try:
            yield conn
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (SCHEMA_LOCK,))


def with_database(database_url: str, dbname: str) -> str:
    """The same server's URL, naming another database."""
    parts = urlsplit(database_url)
    return parts._replace(path=f"/{dbname}").geturl()


def create_database(database_url: str, dbname: str) -> str:
    """Create ``dbname`` on the server of ``database_url``; return its URL."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))
    return with_database(database_url, dbname)


def drop_database(database_url: str, dbname: str) -> None:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(dbname))
        )
