"""Where projections keep their state and position: PostgreSQL (psycopg) or SQLite.

A store opens the transactions that handlers write through, and keeps each
projection's position in a table ``hot_projection_positions`` of the same database,
written in the same transaction. Moving the position is a compare-and-set: if it
is not where this runner left it (another runner, a rebuild), the transaction is
refused with ``ProjectionConflictError`` and nothing it wrote is kept. Beside it, the
store keeps where a projection is stuck and the positions skipped on purpose; the
SQL of all three tables is written once, in ``hot_follow.sql_store``.

Stores may be shared by threads: the PostgreSQL store lends each transaction a
connection of its pool (``hot-projection``), the SQLite store gives each thread a
connection of its own.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, TypeVar

import psycopg

from hot_follow.pools import small_pool
from hot_follow.sql_store import SqlProjectionStore, StoreSql
from hot_follow.standing import Skip, Stuck
from hot_follow.tuning import PROJECTION_CONNECTIONS

Tx = TypeVar("Tx")
PgTx = psycopg.Connection[tuple[Any, ...]]

_SETUP_LOCK = 0x686F745F70726F6A  # "hot_proj": serialises concurrent CREATE TABLEs


class ProjectionStore(Protocol[Tx]):
    """Transactions on a projection's database, and positions, stuck events and skips
    kept in them."""

    retryable: tuple[type[Exception], ...]  # errors after which reconnecting may help

    def transaction(self) -> AbstractContextManager[Tx]:
        """The open transaction ``Tx``, committed when the block ends without an error."""
        ...

    def prepare(self, tx: Tx, name: str) -> None:
        """Create the store's tables and the projection's row (at position 0) if missing."""
        ...

    def position(self, tx: Tx, name: str) -> int: ...

    def advance(self, tx: Tx, name: str, expected: int, position: int) -> None:
        """Move ``name`` from ``expected`` to ``position``, or raise ``ProjectionConflictError``."""
        ...

    def sync(self, tx: Tx) -> None:
        """Run every statement sent so far, raising the first error among them."""
        ...

    def stuck(self, tx: Tx, name: str) -> Stuck | None: ...

    def record_stuck(self, tx: Tx, name: str, stuck: Stuck) -> None: ...

    def clear_stuck(self, tx: Tx, name: str, upto: int) -> None:
        """Forget where ``name`` was stuck, if it was at ``upto`` or before."""
        ...

    def skips(self, tx: Tx, name: str) -> list[Skip]: ...

    def skipped_after(self, tx: Tx, name: str, after: int) -> frozenset[int]: ...

    def record_skip(self, tx: Tx, name: str, skip: Skip) -> None:
        """Record ``skip``, or raise ``SkipRefusedError``: its position is passed, or skipped."""
        ...

    def close(self) -> None: ...


class PostgresProjectionStore(SqlProjectionStore[PgTx]):
    """Projections in a PostgreSQL database; handlers get a psycopg connection.

    Each transaction runs in psycopg's pipeline mode: handlers' statements are sent
    without waiting for each answer, which makes a rebuild several times faster
    (a handler that fetches a result still works; it just waits for it).
    """

    sql = StoreSql().written_for("%s", "timestamptz")
    retryable: tuple[type[Exception], ...] = (psycopg.OperationalError, psycopg.InterfaceError)

    def __init__(self, database_url: str) -> None:
        self.database_url = database_url
        self._pool = small_pool(database_url, "hot-projection", PROJECTION_CONNECTIONS)

    @contextmanager
    def transaction(self) -> Iterator[PgTx]:
        try:
            with self._pool.connection() as conn, conn.transaction(), conn.pipeline():
                yield conn
        except self.retryable:
            # PostgreSQL dropped a connection (the pool drops that one): the idle ones
            # may be dead too, so they are checked before the runner tries again.
            self._pool.check()
            raise

    def prepare(self, tx: PgTx, name: str) -> None:
        tx.execute("SELECT pg_advisory_xact_lock(%s)", (_SETUP_LOCK,))
        super().prepare(tx, name)

    def sync(self, tx: PgTx) -> None:
        with tx.pipeline():  # leaving a pipeline block nested in another one syncs it
            pass

    def close(self) -> None:
        """Close the store's pool."""
        self._pool.close()


class SqliteProjectionStore(SqlProjectionStore[sqlite3.Connection]):
    """Projections in a SQLite file; handlers get a sqlite3 connection (``?`` parameters)."""

    sql = StoreSql().written_for("?", "text")  # moments as ISO 8601 text
    retryable: tuple[type[Exception], ...] = (sqlite3.OperationalError,)

    def __init__(self, path: str | Path, *, busy_seconds: float = 30.0) -> None:
        self.path = str(path)
        self.busy_seconds = busy_seconds
        self._local = threading.local()
        self._opened: list[sqlite3.Connection] = []
        # Write-ahead logging lets readers read while a runner writes. It is a property
        # of the file, set once here: switching needs a lock the busy wait does not cover.
        self._connection().execute("PRAGMA journal_mode=WAL")

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")  # take the write lock now, not halfway
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def close(self) -> None:
        """Close every connection (of every thread)."""
        for conn in self._opened:
            conn.close()
        self._opened.clear()
        self._local = threading.local()

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            # Autocommit mode: transactions are begun and ended here, explicitly.
            conn = sqlite3.connect(
                self.path, isolation_level=None, timeout=self.busy_seconds, check_same_thread=False
            )
            self._local.conn = conn
            self._opened.append(conn)
        return conn

    def _kept(self, moment: datetime) -> str:
        return moment.isoformat()

    def _moment(self, kept: Any) -> datetime:
        return datetime.fromisoformat(kept)
