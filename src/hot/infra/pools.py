"""``QuickPool``: a connection pool that gets over a PostgreSQL restart in moments.

psycopg's pool, as it comes, recovers slowly and fails slowly:

- it connects again with a backoff that doubles from 1 s (up to minutes), so a server
  back after 10 s waits for the next attempt, 6 s later;
- a connection lent after a restart is checked, found broken, and the next one is
  tried only after a pause of 1 s, then 2 s, 4 s..., though every idle connection broke
  at the same moment (ten idle connections took a command 27 s to get past);
- a client asking while no connection can be made waits its whole timeout, and the
  library retries that ten times: the API answered 503 only at its deadline (15 s).

``QuickPool`` tries again every ``RECONNECT_SECONDS`` at most; drops every idle
connection as soon as one is found broken (the others are as broken) and lends the next
good one at once; and while a connection attempt has failed and none has been made since
(the server is down), a client with no connection ready tries to connect at once itself
and is refused as soon as that fails, and those already waiting are refused, so that the
library's retries (about 2 s) and then the API's 503 come quickly, and the first client
after the server is back connects.
"""

from __future__ import annotations

from time import monotonic
from typing import Any

import psycopg
from eventsourcing.postgres import ConnectionPool, PostgresDatastore, PostgresFactory
from eventsourcing.utils import Environment, EnvType
from psycopg.rows import DictRow
from psycopg_pool import PoolTimeout
from psycopg_pool.base import AttemptWithBackoff

from hot.tuning import RECONNECT_SECONDS


class _ShortBackoff(AttemptWithBackoff):
    """The pool's reconnection attempts: doubling from 1 s as psycopg's, but never
    more than ``RECONNECT_SECONDS`` apart."""

    INITIAL_DELAY = RECONNECT_SECONDS / 4

    def update_delay(self, now: float) -> None:
        super().update_delay(now)
        self.delay = min(self.delay, RECONNECT_SECONDS)


class QuickPool(ConnectionPool[Any]):
    """``eventsourcing``'s pool (psycopg's, with its password hook), quick to notice a
    server gone and quick to use it again when it is back (see the module)."""

    _unreachable = False  # the latest attempt to connect failed

    def _connect(self, timeout: float | None = None) -> Any:
        try:
            conn = super()._connect(timeout=timeout)
        except psycopg.Error:
            self._unreachable = True
            self._refuse_waiting()
            raise
        self._unreachable = False
        return conn

    def _add_connection(self, attempt: AttemptWithBackoff | None, growing: bool = False) -> None:
        super()._add_connection(attempt or _ShortBackoff(timeout=self.reconnect_timeout), growing)

    def _getconn_with_check_loop(self, deadline: float) -> Any:
        while True:
            if self._unreachable and not self._pool:
                return self._connect_now(deadline)
            conn = self._getconn_unchecked(deadline - monotonic())
            try:
                self._check_connection(conn)
            except Exception:
                self._putconn(conn, from_getconn=True)
                self.check()  # the idle ones broke with it: drop them all now
                continue
            except BaseException:
                self._putconn(conn, from_getconn=True)
                raise
            return conn

    def _refuse_waiting(self) -> None:
        """Tell the clients waiting for a connection that none can be made now, rather
        than let them wait their whole timeout."""
        with self._lock:
            while self._waiting:
                self._waiting.popleft().fail(
                    PoolTimeout(f"the database of pool {self.name!r} cannot be reached")
                )

    def _connect_now(self, deadline: float) -> Any:
        """While the server is unreachable: one attempt to connect, now, in the client's
        own thread; the new connection, lent to it, or ``PoolTimeout`` at once. (Waiting
        for the pool's next attempt would keep the client waiting while the server is
        down, and refuse it a moment after it is back.)"""
        with self._lock:
            if self._nconns >= self.max_size:
                raise PoolTimeout(f"the database of pool {self.name!r} cannot be reached")
            self._nconns += 1
        try:
            return self._connect(timeout=max(deadline - monotonic(), 1.0))
        except psycopg.Error as error:
            with self._lock:
                self._nconns -= 1
            raise PoolTimeout(
                f"the database of pool {self.name!r} cannot be reached: {error}"
            ) from error


def quick_events_pool(datastore: PostgresDatastore) -> QuickPool:
    """A ``QuickPool`` with the settings of ``datastore``'s pool (not opened yet), to
    take its place."""
    pool = datastore.pool
    return QuickPool(
        get_password_func=pool.get_password_func,
        connection_class=psycopg.Connection[DictRow],
        kwargs=pool.kwargs,
        min_size=pool.min_size,
        max_size=pool.max_size,
        open=False,
        configure=datastore.after_connect_func(),
        timeout=pool.timeout,
        max_waiting=pool.max_waiting,
        max_lifetime=pool.max_lifetime,
        check=ConnectionPool.check_connection if datastore.pre_ping else None,
        name=pool.name,
    )


class QuickPostgresFactory(PostgresFactory):
    """``eventsourcing``'s PostgreSQL persistence, its datastore on a ``QuickPool``
    (``PERSISTENCE_MODULE`` names it: ``hot.infra.database.eventsourcing_env``)."""

    def __init__(self, env: Environment | EnvType | None) -> None:
        super().__init__(env)
        self.datastore.pool = quick_events_pool(self.datastore)
