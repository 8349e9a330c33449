"""``Reads``: where the log's pages are read, the primary or one of its replicas.

With no replica (``HOT_DATABASE_READ_URL`` unset), every read runs on the primary's
pool: the same code, with no replica to pick. With replicas, a read goes to a healthy
one (in turn), and to the primary when none is:

- A checker thread asks every replica and the primary for the log's head each
  ``REPLICA_CHECK_SECONDS``. A replica that does not answer is ``down``; one more than
  ``max_lag`` events behind the primary is ``lagging``; both are left out until a check
  finds them ``up`` again. A read that fails on a replica marks it ``down`` at once and
  runs on the primary.
- Read-your-writes: a read that must include position ``at_least`` (a command's
  answer's ``position``) waits up to ``READ_YOUR_WRITES_WAIT_SECONDS`` for its replica
  to have replayed that far, then runs on the primary, which has every acknowledged
  write.
- A run of reads that must not hop between replicas (one follower's catch-up: a
  replica further behind would answer less) carries a ``Pin``: each of its reads goes
  to the first healthy replica one of them found, or to the primary while that one is
  down or lagging, never to another replica.

The replayed position is the replica's ``max(notification_id)``: positions are given
in commit order under the table lock, and a replica replays commits in order, so a
replica holding position N holds every position before it.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import psycopg
from eventsourcing.persistence import PersistenceError
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composable

from hot.infra.database import small_pool
from hot.tuning import (
    READ_YOUR_WRITES_POLL_SECONDS,
    READ_YOUR_WRITES_WAIT_SECONDS,
    REPLICA_CHECK_SECONDS,
    REPLICA_CONNECTIONS,
)
from hot_follow.pools import Pool

T = TypeVar("T")
Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]

log = logging.getLogger(__name__)

POOL_NAME = "hot-replica-reads"  # as pg_stat_activity on a replica shows HoT's reads

UP, LAGGING, DOWN = "up", "lagging", "down"


@dataclass
class Replica:
    """A replica's pool, and what its latest check (or read) found."""

    url: str
    pool: Pool
    state: str = DOWN  # until the first check
    head: int = 0
    lag: int | None = None
    detail: str = "not checked yet"

    @property
    def name(self) -> str:
        """Where it is, without credentials: ``host:port/db`` (the socket's folder too)."""
        parts = urlsplit(self.url)
        host = parts.hostname or parts.query.removeprefix("host=") or "localhost"
        return f"{host}:{parts.port or 5432}{parts.path}"

    def fail(self, error: Exception) -> None:
        self.state, self.lag, self.detail = DOWN, None, f"{type(error).__name__}: {error}"


@dataclass(eq=False)
class Pin:
    """Keeps a run of reads on one replica, the first healthy one a read of it picks
    (see ``Reads.run``); compared by identity."""

    replica: Replica | None = None


class Reads:
    """Runs each read of the log on a healthy replica, else on the primary (``primary``
    lends the primary's connections); see the module."""

    def __init__(
        self,
        primary: Connect,
        table: Composable,
        replica_urls: Sequence[str] = (),
        *,
        max_lag: int = 1000,
    ) -> None:
        self._primary = primary
        self._head = SQL("SELECT coalesce(max(notification_id), 0) FROM {}").format(table)
        self.max_lag = max_lag
        self.replicas = [
            Replica(url, small_pool(url, POOL_NAME, REPLICA_CONNECTIONS)) for url in replica_urls
        ]
        self._turn = itertools.cycle(range(len(self.replicas) or 1))
        self._stop = threading.Event()
        self._checker: threading.Thread | None = None
        if self.replicas:
            self._checker = threading.Thread(target=self._check_until_stopped, daemon=True)
            self._checker.name = "hot-replica-checker"
            self._checker.start()

    def run(
        self, at_least: int, work: Callable[[psycopg.Connection[Any]], T], pin: Pin | None = None
    ) -> T:
        """``work`` on a connection whose database holds position ``at_least``: a healthy
        replica's if one has it (waiting briefly for it), else the primary's. With a
        ``pin``, the replica is the pinned one, if it is healthy."""
        replica = self._pick() if pin is None else self._pinned(pin)
        if replica is not None:
            try:
                with replica.pool.connection() as conn:
                    if self._holds(conn, replica, at_least):
                        return work(conn)
            except psycopg.OperationalError as error:  # down, or a conflict with recovery
                replica.fail(error)
        with self._primary() as conn:
            return work(conn)

    def status(self) -> dict[str, Any]:
        """Each replica's state, for readiness: reads go to the primary meanwhile, so a
        replica down never makes the process unready."""
        return {
            "ok": True,
            "max_lag": self.max_lag,
            "replicas": [
                {"replica": r.name, "state": r.state, "lag": r.lag, "detail": r.detail}
                for r in self.replicas
            ],
        }

    def close(self) -> None:
        self._stop.set()
        if self._checker is not None:
            self._checker.join()
        for replica in self.replicas:
            replica.pool.close()

    def _pick(self) -> Replica | None:
        """The next healthy replica in turn, if any."""
        for _ in self.replicas:
            replica = self.replicas[next(self._turn)]
            if replica.state == UP:
                return replica
        return None

    def _pinned(self, pin: Pin) -> Replica | None:
        """The pinned replica while it is healthy (the next one in turn, if none yet)."""
        if pin.replica is None:
            pin.replica = self._pick()
        return pin.replica if pin.replica is not None and pin.replica.state == UP else None

    def _holds(self, conn: psycopg.Connection[Any], replica: Replica, at_least: int) -> bool:
        """Whether the replica holds ``at_least``, waiting briefly for it to replay that far."""
        give_up = time.monotonic() + READ_YOUR_WRITES_WAIT_SECONDS
        while replica.head < at_least:
            if time.monotonic() > give_up:
                return False
            time.sleep(READ_YOUR_WRITES_POLL_SECONDS)
            replica.head = max(replica.head, self._head_on(conn))
        return True

    def _head_on(self, conn: psycopg.Connection[Any]) -> int:
        with conn.cursor(row_factory=tuple_row) as cursor:  # the primary's lends dict rows
            row = cursor.execute(self._head).fetchone()
        return int(row[0]) if row else 0

    def _check_until_stopped(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # a checker reports every failure and checks on; never dies
                log.exception("checking the replicas failed")
            self._stop.wait(REPLICA_CHECK_SECONDS)

    def check(self) -> None:
        """Ask the primary and every replica for the log's head; mark each replica ``up``,
        ``lagging`` or ``down``."""
        try:
            with self._primary() as conn:
                primary_head = self._head_on(conn)
        except (psycopg.Error, PersistenceError):
            primary_head = None  # lag unknown: replicas are judged on answering alone
        for replica in self.replicas:
            try:
                with replica.pool.connection() as conn:
                    head = self._head_on(conn)
            except psycopg.Error as error:
                replica.fail(error)
                continue
            replica.head = head
            replica.lag = None if primary_head is None else max(0, primary_head - head)
            if replica.lag is not None and replica.lag > self.max_lag:
                replica.state, replica.detail = LAGGING, f"more than {self.max_lag} events behind"
            else:
                replica.state, replica.detail = UP, ""
