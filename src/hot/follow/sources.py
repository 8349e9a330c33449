"""Where a follower reads the log from: HoT's own tables, ``hot_read``, or the HTTP API.

Each answers the same questions: the events after a position (a page, in log order,
of some names), the position of the first event after a position, the log's head,
and up to where it holds every event (a copy such as ``hot_read`` lags the log). Errors
that retrying may cure become ``SourceUnavailableError``.

``PostgresLog`` is for HoT's own processes, which have the application already; another
team's app reads ``hot_read`` (``SqlReadLog``) or the API (``HttpLog``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol, cast

import eventsourcing.persistence as es
from eventsourcing.postgres import PostgresApplicationRecorder

from hot.application import HumansApplication, RecordedEvent
from hot.application.ports import PageRequest
from hot.follow.pools import UNAVAILABLE, database_errors, follower_pool
from hot.follow.read_ahead import ReadAhead
from hot.infra.log_pages import LogPages, Page, of_names
from hot.tuning import FOLLOWER_CONNECTIONS


class EventSource(Protocol):
    """A readable copy of the log. ``names`` empty means every public event name."""

    def read(
        self,
        after: int,
        limit: int,
        names: Sequence[str] = (),
        upto: int | None = None,
        *,
        personal: bool = True,
    ) -> Sequence[RecordedEvent]:
        """Up to ``limit`` events with positions in (``after``, ``upto``], oldest first.

        Personal fields masked (``masked_event``) unless ``personal``; with it, shown as
        far as the source may show them.
        """
        ...

    def first_after(self, after: int, names: Sequence[str] = ()) -> int | None:
        """The position of the first event after ``after``, or None if there is none yet."""
        ...

    def head(self, names: Sequence[str] = ()) -> int | None:
        """The position of the newest event (0 if none; None if this source cannot tell)."""
        ...

    def complete_upto(self) -> int | None:
        """The position up to which this source holds every event of the log, and after
        which it holds none yet; None when it is the log itself (it holds every event
        committed). Asked before ``first_after`` to know what that answer covers."""
        ...

    def close(self) -> None: ...


# Retried: PostgreSQL's connection errors, as psycopg and as the library raise them.
_DATABASE_UNAVAILABLE = (*UNAVAILABLE, es.OperationalError, es.InterfaceError)


def _database_errors() -> contextlib.AbstractContextManager[None]:
    return database_errors(_DATABASE_UNAVAILABLE)


class PostgresLog:
    """The log read from HoT's own database, as the application ``app`` reads it.

    Pages are read and decoded by ``LogPages``, the reader of the application and the
    relay too. After a full page, the next one is fetched in a thread while this one
    is decoded (``ReadAhead``). Reads go through a pool of connections of its own
    rather than the application's: each soon has its statements prepared, and no
    liveness check costs a round trip per page.
    """

    def __init__(
        self,
        app: HumansApplication,
        *,
        owns_app: bool = False,
        max_connections: int = FOLLOWER_CONNECTIONS,
    ) -> None:
        self.app = app
        self._owns_app = owns_app
        datastore = cast(PostgresApplicationRecorder, app.recorder).datastore
        kwargs: Any = datastore.pool.kwargs  # the application's connection settings
        settings = {k: v for k, v in dict(kwargs or {}).items() if k != "row_factory"}
        self._pool = follower_pool(settings=settings, max_connections=max_connections)
        self.pages = LogPages.on(app, connection=self._pool.connection)
        self._ahead: ReadAhead[PageRequest, Page] = ReadAhead(self._fetch)

    @classmethod
    def connect(cls, database_url: str) -> PostgresLog:
        """A log on the database at ``database_url`` (closing it closes its connections)."""
        from hot.infra.bootstrap import build_application  # the composition root, when needed

        with _database_errors():
            app = build_application(database_url)
        return cls(app, owns_app=True)

    def read(
        self,
        after: int,
        limit: int,
        names: Sequence[str] = (),
        upto: int | None = None,
        *,
        personal: bool = True,
    ) -> list[RecordedEvent]:
        request = PageRequest(after, limit, tuple(names), upto, personal)
        page = self._ahead.get(request)
        rows = page.rows
        if len(rows) == limit and (upto is None or rows[-1].position < upto):
            # the next page is fetched while this one is decoded
            self._ahead.prefetch(request._replace(after=rows[-1].position))
        with _database_errors():  # keys read again, if one was destroyed since the read
            return self.pages.decode(page, personal=personal)

    def first_after(self, after: int, names: Sequence[str] = ()) -> int | None:
        topics, named = of_names(names)
        rows = self._query(
            "SELECT notification_id FROM {table} WHERE notification_id > %s "
            f"AND {topics} ORDER BY notification_id LIMIT 1",
            (after, *named),
        )
        return int(rows[0][0]) if rows else None

    def head(self, names: Sequence[str] = ()) -> int:
        topics, named = of_names(names)
        rows = self._query(
            f"SELECT notification_id FROM {{table}} WHERE {topics} "
            "ORDER BY notification_id DESC LIMIT 1",
            named,
        )
        return int(rows[0][0]) if rows else 0

    def complete_upto(self) -> None:
        return None  # the log itself: its table lock makes log order commit order

    def close(self) -> None:
        self._ahead.close()
        self._pool.close()
        if self._owns_app:
            self.app.close()

    def _fetch(self, request: PageRequest) -> Page:
        with _database_errors():
            return self.pages.fetch(request)

    def _query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        with _database_errors():
            return self.pages.query(statement, params)
