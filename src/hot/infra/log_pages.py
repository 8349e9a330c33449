"""``LogPages``: the one reader of pages of the log, for the application, relay and followers.

A page is one indexed query on the events table, fetched in binary straight into
``Row``s, then decoded by the application's ``EventDecoder``. To show personal fields,
the query also reads the key of each sealed row's human, when the key store lives in
the same database (``KeysBesideRows``): no second round trip for them. Reading
(``fetch``) and decoding (``decode``) are apart, so that a follower can fetch the
next page in a thread while it decodes this one.

Its queries run on connections from ``connection``, a context manager factory: the
application's pool, a follower's own pool, or the relay's leadership connection. The
application's pages of the log and histories (its queries), and the live feed's pages
(``PostgresLog``), run through ``reads``: on the replicas of ``HOT_DATABASE_READ_URL``
when there are (``hot.infra.replicas``), on ``connection`` otherwise; the rows its known
state learns, and ``query``, always on ``connection``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol, cast
from uuid import UUID

import psycopg
from eventsourcing.postgres import PostgresApplicationRecorder
from psycopg.rows import RowFactory, tuple_row
from psycopg.sql import SQL, Composable, Composed, Identifier

from hot.application.catalog import INTERNAL_PREFIX
from hot.application.decoding import EventDecoder, Row
from hot.application.personal import BLOB
from hot.application.ports import PageRequest
from hot.application.views import RecordedEvent
from hot.infra.replicas import Pin, Reads

if TYPE_CHECKING:
    from hot.application import HumansApplication

Connect = Callable[[], AbstractContextManager[psycopg.Connection[Any]]]


class KeysBesideRows(Protocol):
    """A personal-key store in the log's own database, whose keys a page's query can
    read with its rows (``PostgresPersonalKeyStore``)."""

    def key_column(self, human_id: str) -> str:
        """The SQL expression of the key of the human whose id is the SQL ``human_id``:
        the key, empty once destroyed, NULL if there is no key at all (a lost table)."""
        ...

    @property
    def epoch(self) -> int:
        """Bumped whenever a key may have been destroyed: read just before such a query,
        it tells the decoder whether the keys the query read are still good."""
        ...


class Page(NamedTuple):
    """A page's rows, and the key store's epoch when their keys were read beside them
    (None: they were not)."""

    rows: list[Row]
    keys_read_at: int | None


_COLUMNS = "notification_id, originator_id, originator_version, topic, state"
# Every public event: the topics of HoT's internal aggregates (email claims, idempotency
# records, the catalog's types) start with "hot:"; built-in and team names never do.
PUBLIC = f"left(topic, 4) <> '{INTERNAL_PREFIX}'"


def of_names(names: Sequence[str]) -> tuple[str, tuple[Any, ...]]:
    """The SQL condition (and its parameters) on a row's topic for events of ``names``;
    no names: every public event."""
    return ("topic = ANY(%s)", (list(names),)) if names else (PUBLIC, ())


# The key column of a row whose state holds a sealed blob: only those need a key.
_SEALED = f"position('\"{BLOB}\"'::bytea in state) > 0"
# A page's rows, made in C: ``Row._make`` without its Python frame.
_ROWS = cast(RowFactory[Row], lambda cursor: functools.partial(tuple.__new__, Row))


class LogPages:
    """Pages of the log recorded by ``recorder``, decoded by ``decoder``."""

    def __init__(
        self,
        recorder: PostgresApplicationRecorder,
        decoder: EventDecoder,
        connection: Connect | None = None,
        personal_keys: KeysBesideRows | None = None,
        reads: Reads | None = None,
    ) -> None:
        self.decoder = decoder
        self._connection = connection or recorder.datastore.get_connection
        self._table = Identifier(recorder.datastore.schema, recorder.events_table_name)
        self.reads = reads or Reads(self._connection, self._table)
        # A replica may not have replayed a key's destruction yet: with replicas, keys
        # are read from the key store (on the primary), never beside a replica's rows.
        self._personal_keys = None if self.reads.replicas else personal_keys
        # The sixth column of a personal reader's page: the key of a sealed row's human.
        self._key_column = (
            ""
            if personal_keys is None
            else f"CASE WHEN {_SEALED} THEN {personal_keys.key_column('originator_id')} END"
        )
        self._queries: dict[str, Composed] = {}

    @classmethod
    def on(
        cls,
        app: HumansApplication,
        connection: Connect | None = None,
        reads: Callable[[Connect, Composable], Reads] | None = None,
    ) -> LogPages:
        """The pages of ``app``'s log, decoded by ``app.decoder``, on ``app``'s pool unless
        ``connection`` is given; ``reads`` makes where its queries run, from the primary's
        connections and the events table. (Its key store is in the log's database:
        ``bootstrap``.)"""
        store = app.personal_keys
        beside = cast(KeysBesideRows, store) if hasattr(store, "key_column") else None
        recorder = cast(PostgresApplicationRecorder, app.recorder)
        primary = connection or recorder.datastore.get_connection
        table = Identifier(recorder.datastore.schema, recorder.events_table_name)
        return cls(recorder, app.decoder, primary, beside, reads and reads(primary, table))

    def read(self, request: PageRequest) -> list[RecordedEvent]:
        """The events of the page ``request`` asks for."""
        return self.decode(self.fetch(request), personal=request.personal)

    def history(
        self, subject: UUID, after: int, limit: int, *, personal: bool = True, at_least: int = 0
    ) -> list[RecordedEvent]:
        """Up to ``limit`` public events of ``subject`` with sequence > ``after``, oldest first
        (on the events table's primary key), from a database that holds ``at_least``."""
        where = f"originator_id = %s AND originator_version > %s AND {PUBLIC}"
        params = (subject, after, limit)
        page = self._page(where, "originator_version", params, personal, at_least)
        return self.decode(page, personal=personal)

    def fetch(self, request: PageRequest, pin: Pin | None = None) -> Page:
        """The rows of the page ``request`` asks for (not decoded), on the replica ``pin``
        keeps a follower's catch-up on, if it is given."""
        # Without ``upto``, no upper bound at all: "<= max bigint" makes PostgreSQL expect
        # every row to match, sort them all and page through the sorted rest, each page.
        after, limit, names, upto, personal, at_least = request
        bound, params = (
            ("", (after,)) if upto is None else (" AND notification_id <= %s", (after, upto))
        )
        topics, named = of_names(names)
        where = f"notification_id > %s{bound} AND {topics}"
        page_params = (*params, *named, limit)
        return self._page(where, "notification_id", page_params, personal, at_least, pin)

    def rows(self, after: int, limit: int) -> list[Row]:
        """Up to ``limit`` rows after ``after`` of every aggregate (email claims
        too), not decoded: what a process's known state learns."""
        return self._page("notification_id > %s", "notification_id", (after, limit), False).rows

    def rows_at(self, positions: Sequence[int]) -> list[Row]:
        """The rows at ``positions`` (those there are), not decoded."""
        return self._page(
            "notification_id = ANY(%s)", "notification_id", (list(positions), len(positions)), False
        ).rows

    def decode(self, page: Page, *, personal: bool) -> list[RecordedEvent]:
        """The events of ``page``'s rows (personal fields masked unless ``personal``)."""
        return self.decoder.decode(page.rows, personal=personal, keys_read_at=page.keys_read_at)

    def query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` on the events table (``{table}``), as tuples."""
        return self._fetch_all(statement, params, tuple_row)

    def _page(
        self,
        where: str,
        order: str,
        params: Sequence[Any],
        personal: bool,
        at_least: int | None = None,
        pin: Pin | None = None,
    ) -> Page:
        """The rows of a page; read through ``reads`` (holding ``at_least``) unless it is
        None: on ``connection``."""
        beside = self._personal_keys if personal else None
        key = "NULL::bytea" if beside is None else self._key_column  # ``Row.personal_key``
        epoch = None if beside is None else beside.epoch  # read before the query
        statement = (
            f"SELECT {_COLUMNS}, {key} FROM {{table}} WHERE {where} ORDER BY {order} LIMIT %s"
        )
        return Page(self._fetch_all(statement, params, _ROWS, at_least, pin), epoch)

    def _fetch_all(
        self,
        statement: str,
        params: Sequence[Any],
        rows: RowFactory[Any],
        at_least: int | None = None,
        pin: Pin | None = None,
    ) -> list[Any]:
        """Rows fetched in binary (no text to parse); each statement composed once. On
        ``connection``, or through ``reads`` if ``at_least`` is a position."""
        query = self._queries.get(statement)
        if query is None:
            query = self._queries[statement] = SQL(statement).format(table=self._table)

        def fetch(conn: psycopg.Connection[Any]) -> list[Any]:
            with conn.cursor(row_factory=rows, binary=True) as cursor:
                cursor.execute(query, params)
                return cursor.fetchall()

        if at_least is None:
            with self._connection() as conn:
                return fetch(conn)
        return self.reads.run(at_least, fetch, pin)
