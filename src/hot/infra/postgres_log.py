"""``PostgresLog``: the log read from HoT's own tables, by HoT's own processes.

A follower's source (``hot_follow.EventSource``) for the processes that have HoT's
application already (``hot tail``, the benchmarks): it decodes
the stored events with the application's keys, so it may show personal fields.
Another team's app reads ``hot_read`` or the API instead (``hot_follow.Feed``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, cast

import eventsourcing.persistence as es
from eventsourcing.postgres import PostgresApplicationRecorder

from hot.application import HumansApplication, RecordedEvent
from hot.application.ports import PageRequest
from hot.infra.log_pages import LogPages, Page, of_names
from hot_follow.pools import UNAVAILABLE, database_errors, follower_pool
from hot_follow.read_ahead import ReadAhead
from hot_follow.tuning import FOLLOWER_CONNECTIONS

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
