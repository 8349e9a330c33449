"""Projections: handlers by name, positions committed with the writes, rebuilds in one call."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import psycopg
import pytest

from hot.application import HumansApplication, RecordedEvent
from hot.domain import HumanKind
from hot.infra.postgres_log import PostgresLog
from hot_follow import (
    Feed,
    PostgresProjectionStore,
    Projection,
    ProjectionConflictError,
    ProjectionRunner,
    SqliteProjectionStore,
    UnknownEventNameError,
    handles,
)
from tests.event_log import live_a_life
from tests.waiting import wait_until

from .conftest import running, write_lives


class Lives(Projection[sqlite3.Connection]):
    """Per human: its name and how many events of each kind it had (SQLite)."""

    name = "lives"

    def setup(self, tx: sqlite3.Connection) -> None:
        tx.execute("CREATE TABLE IF NOT EXISTS lives (id TEXT PRIMARY KEY, name TEXT, events INT)")

    def clear(self, tx: sqlite3.Connection) -> None:
        tx.execute("DELETE FROM lives")

    @handles("HUMAN_REGISTERED")
    def registered(self, event: RecordedEvent, tx: sqlite3.Connection) -> None:
        tx.execute(
            "INSERT INTO lives VALUES (?, ?, 1)", (str(event.subject), event.payload["name"])
        )

    @handles("HUMAN_JOINED", "HUMAN_ATTENDED", "HUMAN_LEFT")
    def counted(self, event: RecordedEvent, tx: sqlite3.Connection) -> None:
        tx.execute("UPDATE lives SET events = events + 1 WHERE id = ?", (str(event.subject),))


def rows(conn: Any, table: str) -> list[tuple[Any, ...]]:
    return sorted(tuple(r) for r in conn.execute(f"SELECT * FROM {table}").fetchall())


# The registry ---------------------------------------------------------------------------


def test_handlers_are_found_by_event_name() -> None:
    assert Lives.handlers == {
        "HUMAN_REGISTERED": "registered",
        "HUMAN_JOINED": "counted",
        "HUMAN_ATTENDED": "counted",
        "HUMAN_LEFT": "counted",
    }
    assert Lives().names == ("HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_ATTENDED", "HUMAN_LEFT")


def test_a_handler_of_an_unknown_name_is_refused_when_the_class_is_written() -> None:
    with pytest.raises(UnknownEventNameError, match="HUMAN_DANCED"):
        handles("HUMAN_DANCED")


def test_two_handlers_of_one_name_in_a_class_are_refused() -> None:
    with pytest.raises(TypeError, match="HUMAN_JOINED is handled by both"):

        class Twice(Projection[Any]):
            name = "twice"

            @handles("HUMAN_JOINED")
            def one(self, event: RecordedEvent, tx: Any) -> None: ...

            @handles("HUMAN_JOINED")
            def other(self, event: RecordedEvent, tx: Any) -> None: ...


def test_a_subclass_may_replace_a_handler() -> None:
    class Quieter(Lives):
        @handles("HUMAN_JOINED")
        def ignored(self, event: RecordedEvent, tx: Any) -> None: ...

    assert Quieter.handlers["HUMAN_JOINED"] == "ignored"
    assert Quieter.handlers["HUMAN_ATTENDED"] == "counted"


# Running ------------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_runner_catches_up_follows_and_goes_on_where_it_stopped(
    app: HumansApplication, tmp_path: Path
) -> None:
    write_lives(app, 3, 4)
    feed = Feed(PostgresLog(app))
    store = SqliteProjectionStore(tmp_path / "lives.db")
    runner = ProjectionRunner(Lives(), store, feed, page_size=5)
    with running(runner):
        wait_until(lambda: runner.position() == app.head(), 10, "caught up")
        live_a_life(app, 2, "later")
        wait_until(lambda: runner.position() == app.head(), 10, "followed")

    live_a_life(app, 1, "while-stopped")
    again = ProjectionRunner(Lives(), store, feed)
    with running(again):
        wait_until(lambda: again.position() == app.head(), 10, "went on")

    conn = sqlite3.connect(tmp_path / "lives.db")
    lives = rows(conn, "lives")
    assert len(lives) == 5
    assert sorted(events for _, _, events in lives) == [4, 5, 7, 7, 7]  # register+join+days+leave
    before = lives
    assert again.rebuild() == app.head()
    assert rows(conn, "lives") == before


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_moving_a_position_another_runner_moved_is_refused_with_its_writes(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if kind == "sqlite":
        store: Any = SqliteProjectionStore(tmp_path / "p.db")
        table = "CREATE TABLE IF NOT EXISTS effects (n INTEGER)"
    else:
        store = PostgresProjectionStore(request.getfixturevalue("database_url"))
        table = "CREATE TABLE IF NOT EXISTS effects (n integer)"
    with store.transaction() as tx:
        store.prepare(tx, "p")
        tx.execute(table)
    with store.transaction() as tx:
        store.advance(tx, "p", 0, 10)

    def stale_batch() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO effects VALUES (1)")
            store.advance(tx, "p", 0, 5)  # this runner thought it was at 0

    with pytest.raises(ProjectionConflictError) as refused:
        stale_batch()

    assert refused.value.found == 10
    with store.transaction() as tx:
        assert store.position(tx, "p") == 10
        assert tx.execute("SELECT count(*) FROM effects").fetchone()[0] == 0
    store.close()


@pytest.mark.postgres
def test_postgres_transactions_commit_handler_writes_with_the_position(database_url: str) -> None:
    store = PostgresProjectionStore(database_url)
    with store.transaction() as tx:
        store.prepare(tx, "p")
        tx.execute("CREATE TABLE effects (n integer)")
    with store.transaction() as tx:
        for n in range(100):
            tx.execute("INSERT INTO effects VALUES (%s)", (n,))
        store.advance(tx, "p", 0, 100)
    store.close()

    with psycopg.connect(database_url) as conn:
        assert conn.execute("SELECT count(*) FROM effects").fetchone() == (100,)
        assert conn.execute("SELECT position FROM hot_projection_positions").fetchone() == (100,)


# Forgetting ---------------------------------------------------------------------------


class NamedLives(Lives):
    """``Lives`` reading names (personal data): it forgets them when HoT does."""

    def forget(self, human_id: Any, tx: sqlite3.Connection) -> None:
        tx.execute("UPDATE lives SET name = '(forgotten)' WHERE id = ?", (str(human_id),))


def test_a_projection_that_forgets_reads_the_forgettings_too() -> None:
    assert NamedLives().forgets
    assert not Lives().forgets
    assert NamedLives().names == (*Lives().names, "HUMAN_FORGOTTEN")


def test_a_runner_given_personal_data_refuses_a_projection_that_cannot_forget(
    tmp_path: Path,
) -> None:
    store = SqliteProjectionStore(tmp_path / "lives.db")
    feed: Any = object()  # never read: refused when made
    with pytest.raises(TypeError, match=r"cannot forget a human: define forget\(self"):
        ProjectionRunner(Lives(), store, feed, personal=True)
    ProjectionRunner(Lives(), store, feed)  # masked names: nothing to forget
    ProjectionRunner(NamedLives(), store, feed, personal=True)


@pytest.mark.postgres
def test_forget_is_called_once_per_forgetting_with_its_batch(
    app: HumansApplication, tmp_path: Path
) -> None:
    forgotten = app.register("Hari Seldon", "hari@trantor.test", HumanKind.EMPLOYEE).id
    kept = app.register("Salvor Hardin", "salvor@terminus.test", HumanKind.EMPLOYEE).id
    calls: list[Any] = []

    class Counting(NamedLives):
        def forget(self, human_id: Any, tx: sqlite3.Connection) -> None:
            calls.append(human_id)
            super().forget(human_id, tx)

    store = SqliteProjectionStore(tmp_path / "lives.db")
    runner = ProjectionRunner(Counting(), store, Feed(PostgresLog(app)), personal=True)
    head = runner.feed.head  # of every event the projection reads
    with running(runner):
        wait_until(lambda: runner.position() == head(runner.projection.names), 10, "caught up")
        app.forget(forgotten, by="ops")
        live_a_life(app, 1, "after")
        wait_until(lambda: runner.position() == app.head(), 10, "followed")

    conn = sqlite3.connect(tmp_path / "lives.db")
    names = {h: n for h, n, _ in rows(conn, "lives")}
    assert calls == [forgotten]
    assert names[str(forgotten)] == "(forgotten)"
    assert names[str(kept)] == "Salvor Hardin"
    assert runner.rebuild() == app.head()
    assert calls == [forgotten, forgotten]  # the rebuild replays the forgetting
    assert {h: n for h, n, _ in rows(conn, "lives")} == names


@pytest.mark.postgres
def test_a_batch_handler_of_the_forgettings_runs_before_forget(
    app: HumansApplication, tmp_path: Path
) -> None:
    humans = [
        app.register(f"Human {n}", f"h{n}@trantor.test", HumanKind.EMPLOYEE).id for n in range(3)
    ]
    for human in humans:
        app.forget(human, by="ops")
    seen: list[str] = []

    class Audited(NamedLives):
        @handles("HUMAN_FORGOTTEN", batch=True)
        def forgettings(self, events: list[RecordedEvent], tx: sqlite3.Connection) -> None:
            seen.append(f"batch of {len(events)}")

        def forget(self, human_id: Any, tx: sqlite3.Connection) -> None:
            seen.append(f"forget {human_id}")
            super().forget(human_id, tx)

    runner = ProjectionRunner(
        Audited(), SqliteProjectionStore(tmp_path / "lives.db"), Feed(PostgresLog(app))
    )
    runner.rebuild()

    assert seen == ["batch of 3", *(f"forget {h}" for h in humans)]
