"""Where a follower reads the log from: PostgreSQL directly, or the HTTP API.

Both answer the same three questions: the events after a position (a page, in log
order, of some names), the position of the first event after a position, and the
log's head. Errors that retrying may cure become ``SourceUnavailableError``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from typing import Any, Protocol, cast

import eventsourcing.persistence as es
import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import tuple_row
from psycopg.sql import SQL, Composed, Identifier

from hot.application import CATALOG, HumansApplication, RecordedEvent
from hot.application.personal import BLOB
from hot.follow.connections import Connections
from hot.follow.errors import SourceUnavailableError
from hot.follow.read_ahead import ReadAhead
from hot.infra.decoding import EventDecoder, Row


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

    def close(self) -> None: ...


_DATABASE_UNAVAILABLE = (
    psycopg.OperationalError,  # includes psycopg_pool.PoolTimeout
    psycopg.InterfaceError,
    es.OperationalError,
    es.InterfaceError,
)


@contextlib.contextmanager
def _database_errors() -> Iterator[None]:
    try:
        yield
    except _DATABASE_UNAVAILABLE as error:
        raise SourceUnavailableError(f"PostgreSQL is unavailable: {error}") from error


class KeysBesideRows(Protocol):
    """A personal-key store in the log's own database, whose keys a page's query can
    read with its rows: no second round trip per page for them (``PostgresPersonalKeys``).
    """

    def key_column(self, human_id: str) -> str:
        """The SQL expression of the key of the human whose id is the SQL ``human_id``:
        the key, empty once destroyed, NULL if there is no key at all (a lost table)."""
        ...

    @property
    def epoch(self) -> int:
        """Bumped whenever a key may have been destroyed: read just before such a query,
        it tells the decoder whether the keys the query read are still good."""
        ...


# Rows whose state holds a sealed blob: only theirs need a key.
_SEALED = f"position('\"{BLOB}\"'::bytea in state) > 0"

# after, limit, topics, upto, personal
_PageRequest = tuple[int, int, tuple[str, ...], int | None, bool]
# The rows, and the key store's epoch when their keys were read beside them (or None)
_Page = tuple[list[Row], int | None]


class PostgresLog:
    """The log read from HoT's own database, decoded as the application ``app`` decodes it.

    Rows are read with one indexed query per page (binary, tuples) and decoded by
    ``EventDecoder``: the same events as ``app.read_log``, several times faster. After
    a full page, the next one is fetched in a thread while this one is decoded
    (``ReadAhead``). Reads go through a few connections of its own rather than the
    application's pool: each soon has its statements prepared, and there is no health
    check per page. To show personal fields, a page's query also reads the keys of
    its sealed rows when the key store is in the same database (``KeysBesideRows``);
    otherwise they are fetched right after it, in one more query.
    """

    def __init__(
        self, app: HumansApplication, *, owns_app: bool = False, max_connections: int = 8
    ) -> None:
        self.app = app
        self._owns_app = owns_app
        self.decoder = EventDecoder(app)
        recorder = cast(PostgresApplicationRecorder, app.recorder)
        datastore = recorder.datastore
        self._table = Identifier(datastore.schema, recorder.events_table_name)
        kwargs: Any = datastore.pool.kwargs  # the application's connection settings
        settings = {k: v for k, v in dict(kwargs or {}).items() if k != "row_factory"}
        self._connections = Connections(
            {**settings, "application_name": "hot-follower"}, limit=max_connections
        )
        keys = self.decoder.keys
        # (The application's key store is built on the database of its log: bootstrap.)
        self._keys = cast(KeysBesideRows, keys) if hasattr(keys, "key_column") else None
        self._pages: ReadAhead[_PageRequest, _Page] = ReadAhead(self._page)

    @classmethod
    def connect(cls, database_url: str) -> PostgresLog:
        """A log on the database at ``database_url`` (closing it closes its connections)."""
        from hot.infra.bootstrap import build_application  # the composition root, when needed

        with _database_errors():
            app = build_application(database_url, group_commit=False)
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
        request = (after, limit, tuple(_topics(names)), upto, personal)
        rows, keyed_at = self._pages.get(request)
        more = len(rows) == limit and (upto is None or rows[-1][0] < upto)
        if more:  # fetch the next page while this one is decoded
            self._pages.prefetch((rows[-1][0], limit, request[2], upto, personal))
        # Keys read beside the rows and no longer good (one was destroyed since): the
        # decoder fetches the page's keys again, in one query.
        fetched = personal and keyed_at is None
        return self.decoder.decode_all(
            rows, personal=personal, keys_fetched=fetched, keyed_at=keyed_at
        )

    def _page(self, request: _PageRequest) -> _Page:
        """The rows of a page, and (to show personal fields) their humans' keys: beside
        each sealed row if the key store allows it, else fetched into its cache."""
        after, limit, topics, upto, personal = request
        # Without ``upto``, no upper bound at all: "<= max bigint" makes PostgreSQL expect
        # every row to match, sort them all and page through the sorted rest, each page.
        bound, params = (
            ("", (after,)) if upto is None else (" AND notification_id <= %s", (after, upto))
        )
        keys = self._keys if personal else None
        # A sixth column, the key of a sealed row's human (``decoding.KEYED``).
        key = (
            ""
            if keys is None
            else f", CASE WHEN {_SEALED} THEN {keys.key_column('originator_id')} END"
        )
        epoch = None if keys is None else keys.epoch
        rows = self._rows(
            f"SELECT notification_id, originator_id, originator_version, topic, state{key} "
            f"FROM {{table}} WHERE notification_id > %s{bound} "
            "AND topic = ANY(%s) ORDER BY notification_id LIMIT %s",
            (*params, list(topics), limit),
        )
        if personal and keys is None:
            with _database_errors():
                self.decoder.prefetch_keys(cast(list[Row], rows))
        return cast(list[Row], rows), epoch

    def first_after(self, after: int, names: Sequence[str] = ()) -> int | None:
        rows = self._rows(
            "SELECT notification_id FROM {table} WHERE notification_id > %s "
            "AND topic = ANY(%s) ORDER BY notification_id LIMIT 1",
            (after, _topics(names)),
        )
        return int(rows[0][0]) if rows else None

    def head(self, names: Sequence[str] = ()) -> int:
        rows = self._rows(
            "SELECT notification_id FROM {table} WHERE topic = ANY(%s) "
            "ORDER BY notification_id DESC LIMIT 1",
            (_topics(names),),
        )
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        self._pages.close()
        self._connections.close()
        if self._owns_app:
            self.app.close()

    def _rows(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        query: Composed = SQL(statement).format(table=self._table)
        with (
            _database_errors(),
            self._connections.connection() as conn,
            conn.cursor(row_factory=tuple_row, binary=True) as cursor,
        ):
            cursor.execute(query, params)
            return cursor.fetchall()


def _topics(names: Sequence[str]) -> list[str]:
    return list(names or CATALOG.names)
