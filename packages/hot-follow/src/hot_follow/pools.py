"""The connections a follower's source reads on, and what their errors mean to it.

Each source keeps a pool of its own (not an application's): each connection soon has
its statements prepared, none is checked before each page, none is made before the
first read. A failure that retrying may cure becomes ``SourceUnavailableError``; a
role refused the rows, ``AccessDeniedError``. A store's pool (``small_pool``) is
opened at once and keeps a connection.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg_pool import ConnectionPool

from hot_follow.errors import AccessDeniedError, SourceUnavailableError

FOLLOWER = "hot-follower"  # its sessions' application_name, and the pool's name
UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,  # includes psycopg_pool.PoolTimeout
    psycopg.InterfaceError,
)
Pool = ConnectionPool[psycopg.Connection[tuple[Any, ...]]]


def small_pool(
    database_url: str,
    name: str,
    size: int,
    *,
    checked: bool = False,
    kind: Callable[..., Pool] = ConnectionPool,
) -> Pool:
    """An open pool of up to ``size`` autocommit connections for a store (a projection's,
    or one of HoT's own tables); ``name`` is their ``application_name`` (as
    ``pg_stat_activity`` shows it).

    ``checked``: a connection is checked (one round trip) each time it is lent, so that
    one PostgreSQL dropped is never used, for a store whose statements must not run
    twice. One connection is kept, one background thread makes them; close it with
    the store. ``kind``: the pool's class (psycopg's, or one of its subclasses).
    """
    return kind(
        database_url,
        min_size=1,
        max_size=size,
        kwargs={"autocommit": True, "connect_timeout": 5, "application_name": name},
        check=ConnectionPool.check_connection if checked else None,
        name=name,
        timeout=5.0,
        num_workers=1,
        open=True,
    )


def follower_pool(
    conninfo: str = "",
    *,
    settings: dict[str, Any] | None = None,
    configure: Callable[[psycopg.Connection[Any]], None] | None = None,
    max_connections: int,
) -> ConnectionPool[psycopg.Connection[Any]]:
    """A pool for a follower's reads: autocommit, ``settings`` besides, ``configure``d."""
    return ConnectionPool(
        conninfo,
        kwargs={
            **(settings or {}),
            "autocommit": True,
            "connect_timeout": 5,
            "application_name": FOLLOWER,
        },
        configure=configure,
        min_size=0,  # no connection until the first read
        max_size=max_connections,
        timeout=10.0,
        num_workers=1,
        name=FOLLOWER,
        open=True,
    )


@contextlib.contextmanager
def database_errors(unavailable: tuple[type[Exception], ...] = UNAVAILABLE) -> Iterator[None]:
    """PostgreSQL's errors as a follower's: ``unavailable`` ones worth retrying."""
    try:
        yield
    except psycopg.errors.InsufficientPrivilege as error:
        raise AccessDeniedError(f"PostgreSQL refused this role the rows: {error}") from error
    except unavailable as error:
        raise SourceUnavailableError(f"PostgreSQL is unavailable: {error}") from error
