"""``SqlReadLog``: the public log as HoT's SQL read contract holds it, ``hot_read.events``.

This is what another team's app follows with a database URL. A role made by ``hot
sql-access create`` is enough: the source only selects from ``hot_read``, creates
nothing in HoT's database and looks up no key. ``hot_read`` holds no personal field,
so ``personal=True`` is refused (``PersonalFieldsRefusedError``): following with
personal fields goes over the API, with a token that has the ``personal`` scope.

``hot_read`` is kept in step with the log by a projector, so it lags the log a little.
It holds every public event up to ``hot_read.contract.position`` and none after it,
so a page of it is always a gapless stretch of the log; ``complete_upto`` says how far
that is, which a follower checks before it trusts Redis to begin where it does.

A page is one indexed query, fetched in binary: its columns are selected in the order
of ``RecordedEvent``'s fields, so each row becomes one in C (``itertools.starmap``);
``payload`` (jsonb) is decoded by msgspec, on this source's own connections only.
After a full page, the next one is fetched in a thread while this one is handed out.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, NamedTuple

import msgspec
import psycopg
from psycopg.types.json import set_json_loads

from hot_follow.errors import (
    PersonalFieldsRefusedError,
)
from hot_follow.events import RecordedEvent
from hot_follow.pools import database_errors, follower_pool
from hot_follow.read_ahead import ReadAhead
from hot_follow.tuning import FOLLOWER_CONNECTIONS

CONTRACT = "hot_read"  # the contract's schema, version 1 (``docs/sql.md``)
_COLUMNS = "id, name, version, subject, sequence, position, time, payload"  # RecordedEvent's
assert tuple(_COLUMNS.split(", ")) == RecordedEvent.__struct_fields__


class _PageRequest(NamedTuple):
    after: int
    limit: int
    names: tuple[str, ...]
    upto: int | None


def _of_names(names: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """The condition on ``name`` (and its parameters): one name reads the index on
    ``(name, position)`` in order; no name, the primary key."""
    if not names:
        return "", ()
    if len(names) == 1:
        return " AND name = %s", (names[0],)
    return " AND name = ANY(%s)", (list(names),)


def _configure(conn: psycopg.Connection[Any]) -> None:
    """A new connection's settings: times in UTC (as every reader of HoT shows them), and
    JSON decoded by msgspec (several times faster than ``json.loads``)."""
    conn.execute("SET TIME ZONE 'UTC'")
    set_json_loads(msgspec.json.decode, conn)


class SqlReadLog:
    """The public events in ``hot_read.events`` of the database at ``database_url``.

    ``database_url`` may be a SQL reader's (``hot sql-access create``). Connections are
    made at the first read, up to ``max_connections``; ``close()`` closes them.
    """

    def __init__(self, database_url: str, *, max_connections: int = FOLLOWER_CONNECTIONS) -> None:
        self._pool = follower_pool(
            database_url, configure=_configure, max_connections=max_connections
        )
        self._ahead: ReadAhead[_PageRequest, list[RecordedEvent]] = ReadAhead(self._page)

    def read(
        self,
        after: int,
        limit: int,
        names: Sequence[str] = (),
        upto: int | None = None,
        *,
        personal: bool = False,
    ) -> list[RecordedEvent]:
        """Up to ``limit`` events in (``after``, ``upto``], as ``hot_read`` holds them:
        personal fields masked. ``personal=True`` is refused: ``hot_read`` has none."""
        if personal:
            raise PersonalFieldsRefusedError(
                f"{CONTRACT} holds no personal field, so a follower of it cannot show them "
                "(personal=True). Following with personal fields goes over the API: "
                "Feed.connect(api_url=..., token=...) with a token that has the "
                "'personal' scope."
            )
        request = _PageRequest(after, limit, tuple(names), upto)
        events = self._ahead.get(request)
        if len(events) == limit and (upto is None or events[-1].position < upto):
            self._ahead.prefetch(request._replace(after=events[-1].position))
        return events

    def first_after(self, after: int, names: Sequence[str] = ()) -> int | None:
        """The position of the first event after ``after`` that ``hot_read`` holds, or None."""
        condition, named = _of_names(names)
        row = self._one(
            f"SELECT position FROM {CONTRACT}.events WHERE position > %s{condition} "
            "ORDER BY position LIMIT 1",
            (after, *named),
        )
        return None if row is None else int(row[0])

    def head(self, names: Sequence[str] = ()) -> int:
        """The position of the newest event that ``hot_read`` holds (0 if none)."""
        condition, named = _of_names(names)
        where = f" WHERE {condition.removeprefix(' AND ')}" if condition else ""
        row = self._one(
            f"SELECT position FROM {CONTRACT}.events{where} ORDER BY position DESC LIMIT 1",
            named,
        )
        return 0 if row is None else int(row[0])

    def complete_upto(self) -> int:
        """The log position up to which ``hot_read`` holds every public event, and after
        which it holds none (``hot_read.contract.position``)."""
        row = self._one(f"SELECT position FROM {CONTRACT}.contract", ())
        return 0 if row is None else int(row[0])

    def close(self) -> None:
        self._ahead.close()
        self._pool.close()

    def _page(self, request: _PageRequest) -> list[RecordedEvent]:
        after, limit, names, upto = request
        bound, bounded = ("", ()) if upto is None else (" AND position <= %s", (upto,))
        condition, named = _of_names(names)
        statement = (
            f"SELECT {_COLUMNS} FROM {CONTRACT}.events WHERE position > %s{bound}{condition} "
            "ORDER BY position LIMIT %s"
        )
        with (
            database_errors(),
            self._pool.connection() as conn,
            conn.cursor(binary=True) as cursor,
        ):
            cursor.execute(statement, (after, *bounded, *named, limit))
            return list(itertools.starmap(RecordedEvent, cursor.fetchall()))

    def _one(self, statement: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        with (
            database_errors(),
            self._pool.connection() as conn,
            conn.cursor(binary=True) as cursor,
        ):
            return cursor.execute(statement, params).fetchone()
