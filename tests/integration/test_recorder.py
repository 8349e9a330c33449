"""``HotRecorder``'s writes: one transaction per batch, on a connection kept for
writing that is replaced when PostgreSQL drops it, and pooled connections beside it."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from uuid import UUID

import psycopg
import pytest

from hot.application import HumansApplication
from hot.application.decoding import Row
from hot.domain import Human, HumanKind
from hot.infra.notices import NO_STATE, noticed_rows
from tests.blocking import blocking_application

pytestmark = pytest.mark.postgres

JOINED = date(2020, 1, 1)


def member(app: HumansApplication, n: int) -> UUID:
    human = app.register(f"Writer {n}", f"writer-{n}@trantor.example", HumanKind.EMPLOYEE)
    app.join(human.id, JOINED, "scribe")
    return human.id


def test_a_write_after_postgresql_dropped_the_writing_connection_is_recorded(
    app: HumansApplication, database_url: str
) -> None:
    human_id = member(app, 1)
    with psycopg.connect(database_url, autocommit=True) as admin:
        terminated = admin.execute(
            # Those whose last statement ended a transaction: the one kept for writing among them.
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query = 'COMMIT' AND pid <> pg_backend_pid()"
        ).fetchall()

    assert (True,) in terminated

    result = app.attend(human_id, JOINED + timedelta(days=1))

    assert result.version == 3
    assert [e.name for e in app.history(human_id)][-1] == "HUMAN_ATTENDED"


def test_concurrent_writes_without_group_commit_share_the_writing_connection_and_the_pool(
    database_url: str,
) -> None:
    app = blocking_application(database_url, max_batch=1)
    try:
        humans = [member(app, n) for n in range(8)]
        days = [JOINED + timedelta(days=d) for d in range(1, 11)]
        with ThreadPoolExecutor(16) as pool:
            results = list(
                pool.map(lambda hd: app.attend(*hd), [(h, d) for h in humans for d in days])
            )

        positions = [r.position for r in results]
        assert len(set(positions)) == len(positions) == 80
        assert all(app.get_human(h).version == 2 + len(days) for h in humans)
    finally:
        app.close()


def _table_rows(database_url: str) -> list[Row]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM hot_events ORDER BY notification_id"
        ).fetchall()
    return [Row(*row) for row in rows]


def test_each_commit_notifies_the_rows_it_inserted(
    app: HumansApplication, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN hot_events")
        member(app, 1)  # a registration (with its email claim), then a join
        payloads = [n.payload for n in listener.notifies(timeout=1)]

    assert len(payloads) == 2
    assert noticed_rows(payloads, 0, 100) == _table_rows(database_url)
    assert noticed_rows(payloads, 2, 100) == _table_rows(database_url)[2:]


def test_a_commit_with_too_many_rows_for_a_notification_sends_them_without_their_states(
    app: HumansApplication, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN hot_events")
        app.save(
            *[Human.register(f"H {i}", f"h{i}@trantor.example", HumanKind.GUEST) for i in range(40)]
        )
        payloads = [n.payload for n in listener.notifies(timeout=1)]

    table = _table_rows(database_url)
    assert len(table) == 40
    assert noticed_rows(payloads, 0, 100) is None  # the relay reads the table
    assert noticed_rows(payloads, 0, 100, states=False) == [
        row._replace(state=NO_STATE) for row in table
    ]


def test_a_commit_with_too_many_rows_even_without_states_sends_an_empty_one(
    app: HumansApplication, database_url: str
) -> None:
    with psycopg.connect(database_url, autocommit=True) as listener:
        listener.execute("LISTEN hot_events")
        app.save(
            *[
                Human.register(f"H {i}", f"h{i}@trantor.example", HumanKind.GUEST)
                for i in range(200)
            ]
        )
        payloads = [n.payload for n in listener.notifies(timeout=1)]

    assert payloads == [""]
    assert len(_table_rows(database_url)) == 200
