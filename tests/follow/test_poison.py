"""An event a handler cannot handle: the runner keeps what came before it, says where it is
stuck (status, logs, ``hot-attendance report``), tries again, and goes past it only when
it is fixed or skipped on purpose, with who and why recorded."""

from __future__ import annotations

import getpass
import logging
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner, Result

from hot.application import HumansApplication, RecordedEvent
from hot.cli import main
from hot.domain import HumanKind
from hot.infra.postgres_log import PostgresLog
from hot_attendance import SKIP_COMMAND, Attendance
from hot_attendance.cli import attendance
from hot_follow import (
    Feed,
    PostgresProjectionStore,
    Projection,
    ProjectionRunner,
    ProjectionStatus,
    RebuildFailedError,
    SkipRefusedError,
    SqliteProjectionStore,
    Stuck,
    handles,
)
from hot_follow.standing import read_status, skip_position
from tests.event_log import TODAY, live_a_life
from tests.waiting import wait_until

from .attendance_model import actual_tables
from .conftest import full_log, running, write_lives

PgTx = psycopg.Connection[tuple[Any, ...]]
QUICK_RETRY = (0.05, 0.2)  # seconds: a stuck runner tries again at once, in tests
RUNNER_LOG = "hot_follow.runner"


class Tally(Projection[PgTx]):
    """Each event's position, once (a primary key), unless it is in ``poison``: then the
    handler raises (``failing="python"``) or its statement fails in PostgreSQL ("sql")."""

    name = "tally"

    def __init__(self, poison: set[int] | None = None, failing: str = "python") -> None:
        self.poison = poison if poison is not None else set()
        self.failing = failing

    def setup(self, tx: PgTx) -> None:
        tx.execute(
            "CREATE TABLE IF NOT EXISTS tally (position bigint PRIMARY KEY, event text NOT NULL)"
        )

    def clear(self, tx: PgTx) -> None:
        tx.execute("DELETE FROM tally")

    @handles("HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_ATTENDED", "HUMAN_DETAILS_CHANGED")
    def counted(self, event: RecordedEvent, tx: PgTx) -> None:
        poisoned = event.position in self.poison
        if poisoned and self.failing == "python":
            raise ValueError(f"cannot tally {event.name}")
        name = None if poisoned else event.name  # NULL: a NotNullViolation at the server
        tx.execute("INSERT INTO tally VALUES (%s, %s)", (event.position, name))

    @handles("HUMAN_LEFT", batch=True)
    def left(self, events: list[RecordedEvent], tx: PgTx) -> None:
        for event in events:
            self.counted(event, tx)


def tallied(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        return [p for (p,) in conn.execute("SELECT position FROM tally ORDER BY position")]


def stuck_lines(caplog: pytest.LogCaptureFixture, position: int) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno == logging.ERROR and f"stuck at position {position} " in r.getMessage()
    ]


@pytest.fixture
def store(database_url: str) -> Iterator[PostgresProjectionStore]:
    made = PostgresProjectionStore(database_url)
    yield made
    made.close()


@pytest.fixture
def tally_runner(
    store: PostgresProjectionStore, log_source: PostgresLog
) -> Callable[..., ProjectionRunner[Any]]:
    """Makes a runner of a ``Tally`` in pages of 5 that tries a failing event again quickly."""

    def make(projection: Tally, **options: Any) -> ProjectionRunner[Any]:
        options = {"page_size": 5, "stuck_retry": QUICK_RETRY, **options}
        return ProjectionRunner(projection, store, Feed(log_source), **options)

    return make


@pytest.fixture
def lives(app: HumansApplication) -> list[RecordedEvent]:
    """Two lives (14 events, all of ``Tally``'s names), written at once by two writers."""
    write_lives(app, 2, 3)
    return full_log(app)


def positions(events: list[RecordedEvent], but: int | None = None) -> list[int]:
    return [e.position for e in events if e.position != but]


# Stuck --------------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.parametrize("failing", ["python", "sql"])
def test_the_runner_keeps_every_event_before_the_poison_once_and_says_it_is_stuck_there(
    database_url: str,
    lives: list[RecordedEvent],
    tally_runner: Callable[..., ProjectionRunner[Any]],
    caplog: pytest.LogCaptureFixture,
    failing: str,
) -> None:
    poison = lives[7]  # the third event of the second page of 5
    runner = tally_runner(Tally({poison.position}, failing))

    with caplog.at_level(logging.ERROR, logger=RUNNER_LOG), running(runner):
        wait_until(lambda: runner.status().stuck is not None, 10, "stuck")
        wait_until(lambda: stuck_lines(caplog, poison.position), 10, "logged")

    status = runner.status()
    assert status.position == lives[6].position
    assert status.stuck is not None
    assert (status.stuck.position, status.stuck.event_name) == (poison.position, poison.name)
    expected_error = "ValueError: cannot tally" if failing == "python" else "NotNullViolation: "
    assert status.stuck.error.startswith(expected_error)
    assert tallied(database_url) == positions(lives[:7])  # each once: a primary key
    line = stuck_lines(caplog, poison.position)[0]
    assert line.startswith(
        f"projection tally is stuck at position {poison.position} ({poison.name}): "
        f"{status.stuck.error}; retrying in "
    )
    assert line.endswith(f"`ProjectionRunner.skip({poison.position}, by=..., reason=...)` skips it")


@pytest.mark.postgres
def test_a_stuck_runner_tries_again_and_goes_on_once_the_handler_succeeds(
    app: HumansApplication,
    database_url: str,
    lives: list[RecordedEvent],
    tally_runner: Callable[..., ProjectionRunner[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison = lives[7]
    projection = Tally({poison.position})
    runner = tally_runner(projection)

    with caplog.at_level(logging.ERROR, logger=RUNNER_LOG), running(runner):
        wait_until(lambda: runner.status().stuck is not None, 10, "stuck")
        first = runner.status().stuck
        wait_until(lambda: len(stuck_lines(caplog, poison.position)) >= 3, 10, "3 attempts")
        assert runner.status().stuck == first  # since its first failure
        projection.poison.clear()  # the handler is fixed
        wait_until(lambda: runner.position() == app.head(), 10, "past the poison")

    assert runner.status() == ProjectionStatus("tally", app.head(), None, ())
    assert tallied(database_url) == positions(lives)


@pytest.mark.postgres
def test_stop_ends_a_stuck_runner_while_it_waits_to_try_again(
    lives: list[RecordedEvent], tally_runner: Callable[..., ProjectionRunner[Any]]
) -> None:
    runner = tally_runner(Tally({lives[3].position}), stuck_retry=(60.0, 60.0))
    thread = threading.Thread(target=runner.run)
    thread.start()
    wait_until(lambda: runner.status().stuck is not None, 10, "stuck")

    asked = time.monotonic()
    runner.stop()
    thread.join(5)

    assert not thread.is_alive()
    assert time.monotonic() - asked < 1.0


# Skipping -----------------------------------------------------------------------------


@pytest.mark.postgres
def test_a_skip_records_who_and_why_and_the_runner_goes_past_it(
    app: HumansApplication,
    database_url: str,
    lives: list[RecordedEvent],
    tally_runner: Callable[..., ProjectionRunner[Any]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    poison = lives[7]
    runner = tally_runner(Tally({poison.position}))

    with caplog.at_level(logging.WARNING), running(runner):
        wait_until(lambda: runner.status().stuck is not None, 10, "stuck")
        skip = runner.skip(poison.position, by="ops@trantor.test", reason="a bad import")
        wait_until(lambda: runner.position() == app.head(), 10, "past the skip")
        live_a_life(app, 2, "later")
        wait_until(lambda: runner.position() == app.head(), 10, "later events")

    assert (skip.position, skip.skipped_by, skip.reason) == (
        poison.position,
        "ops@trantor.test",
        "a bad import",
    )
    assert runner.status() == ProjectionStatus("tally", app.head(), None, (skip,))
    assert tallied(database_url) == positions(full_log(app), but=poison.position)
    messages = [r.getMessage() for r in caplog.records]
    assert f"projection tally: not applying skipped position(s) [{poison.position}]" in messages


@pytest.mark.postgres
def test_a_rebuild_leaves_out_the_skipped_positions(
    app: HumansApplication,
    database_url: str,
    lives: list[RecordedEvent],
    tally_runner: Callable[..., ProjectionRunner[Any]],
) -> None:
    poison = lives[7]
    runner = tally_runner(Tally({poison.position}))
    skip = runner.skip(poison.position, by="ops", reason="known bad")

    assert runner.rebuild() == app.head()

    assert tallied(database_url) == positions(lives, but=poison.position)
    assert runner.status() == ProjectionStatus("tally", app.head(), None, (skip,))


@pytest.mark.postgres
@pytest.mark.parametrize("failing", ["python", "sql"])
def test_a_rebuild_that_fails_keeps_the_old_state_and_names_the_failing_page(
    app: HumansApplication,
    database_url: str,
    lives: list[RecordedEvent],
    tally_runner: Callable[..., ProjectionRunner[Any]],
    failing: str,
) -> None:
    projection = Tally(failing=failing)
    runner = tally_runner(projection)
    runner.rebuild()
    # The last event of its page: its statement's failure (sent to PostgreSQL, not waited
    # for) must be known before the next page is handled.
    projection.poison.add(lives[9].position)

    with pytest.raises(RebuildFailedError) as failed:
        runner.rebuild()

    assert (failed.value.first, failed.value.last) == (lives[5].position, lives[9].position)
    assert str(failed.value).startswith(
        f"Rebuilding 'tally' failed on an event at positions {lives[5].position} to "
        f"{lives[9].position}, so nothing changed: "
    )
    assert tallied(database_url) == positions(lives)
    assert runner.position() == app.head()


# Both stores --------------------------------------------------------------------------


def made_store(kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    if kind == "sqlite":
        return SqliteProjectionStore(tmp_path / "p.db")
    return PostgresProjectionStore(request.getfixturevalue("database_url"))


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_skip_at_or_below_the_position_or_without_who_and_why_is_refused(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = made_store(kind, tmp_path, request)
    with store.transaction() as tx:
        store.prepare(tx, "p")
        store.advance(tx, "p", 0, 10)

    for position in (10, 3):
        with pytest.raises(SkipRefusedError, match="is at position 10, past it"):
            skip_position(store, "p", position, by="ops", reason="why")
    with pytest.raises(SkipRefusedError, match="Say why position 11 is skipped"):
        skip_position(store, "p", 11, by="ops", reason=" \n ")
    with pytest.raises(SkipRefusedError, match="Say who skips position 11"):
        skip_position(store, "p", 11, by="  ", reason="why")
    skip = skip_position(store, "p", 11, by=" ops ", reason="a bad\n  import")
    with pytest.raises(SkipRefusedError, match="Position 11 of 'p' is already skipped"):
        skip_position(store, "p", 11, by="ops", reason="again")

    assert (skip.skipped_by, skip.reason) == ("ops", "a bad import")
    assert read_status(store, "p") == ProjectionStatus("p", 10, None, (skip,))
    store.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_stores_keep_where_a_projection_is_stuck_since_its_first_failure(
    kind: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    store = made_store(kind, tmp_path, request)
    began = datetime(2026, 5, 1, 9, 30, 0, 123456, tzinfo=UTC)
    first = Stuck(12, "HUMAN_ATTENDED", "ValueError: no", began)
    again = Stuck(12, "HUMAN_ATTENDED", "ValueError: still no", began + timedelta(minutes=1))
    later = Stuck(15, "HUMAN_LEFT", "KeyError: 'on'", began + timedelta(minutes=2))

    def stuck_after(*changes: Callable[[Any], None]) -> Stuck | None:
        with store.transaction() as tx:
            store.prepare(tx, "p")
            for change in changes:
                change(tx)
            found: Stuck | None = store.stuck(tx, "p")
            return found

    assert stuck_after() is None
    assert stuck_after(lambda tx: store.record_stuck(tx, "p", first)) == first
    assert stuck_after(lambda tx: store.record_stuck(tx, "p", again)) == Stuck(
        12, "HUMAN_ATTENDED", "ValueError: still no", began
    )
    assert stuck_after(lambda tx: store.record_stuck(tx, "p", later)) == later
    assert stuck_after(lambda tx: store.clear_stuck(tx, "p", 14)) == later
    assert stuck_after(lambda tx: store.clear_stuck(tx, "p", 15)) is None
    store.close()


# hot-attendance -----------------------------------------------------------------------

REFUSE_POISON = (
    "CREATE FUNCTION refuse_poison() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
    "IF NEW.name LIKE 'Poison%' THEN RAISE EXCEPTION 'no poison here'; END IF; "
    "RETURN NEW; END $$",
    "CREATE TRIGGER refuse_poison BEFORE INSERT ON attendance_humans "
    "FOR EACH ROW EXECUTE FUNCTION refuse_poison()",
)
ANN_DAYS = 3
MONTH = f"{TODAY - timedelta(days=ANN_DAYS + 10):%Y-%m}"  # of Ann's first day (live_a_life)


def hot_attendance(database_url: str, *args: str) -> Result:
    """``hot-attendance`` with its tables in ``database_url``, and ``args``."""
    env = dict.fromkeys(("HOT_REDIS_URL", "HOT_READ_URL", "HOT_API_URL", "HOT_TOKEN"), "")
    return CliRunner(env=env).invoke(
        attendance, ["--attendance-database-url", database_url, *args], prog_name="hot-attendance"
    )


@pytest.fixture
def poisoned_attendance(
    app: HumansApplication, database_url: str, log_source: PostgresLog
) -> Iterator[tuple[ProjectionRunner[Any], int, int]]:
    """Attendance stuck on a registration its table refuses (a trigger), before every
    attendance: (its runner, stopped; the poison's position; the position before it)."""
    app.register("Bo", "bo@example.org", HumanKind.EMPLOYEE)
    app.register("Poison Pill", "pill@example.org", HumanKind.GUEST)
    live_a_life(app, ANN_DAYS, "ann")
    log = full_log(app)
    poison = next(i for i, e in enumerate(log) if e.payload.get("name") == "Poison Pill")
    store = PostgresProjectionStore(database_url)
    runner = ProjectionRunner(
        Attendance(),
        store,
        Feed(log_source),
        personal=True,
        skip_command=SKIP_COMMAND,
        stuck_retry=QUICK_RETRY,
    )
    runner.position()  # creates the tables
    with psycopg.connect(database_url, autocommit=True) as conn:
        for statement in REFUSE_POISON:
            conn.execute(statement)
    with running(runner):
        wait_until(lambda: runner.status().stuck is not None, 10, "stuck")
    yield runner, log[poison].position, log[poison - 1].position
    store.close()


@pytest.mark.postgres
def test_status_and_the_report_say_where_attendance_is_stuck(
    database_url: str, poisoned_attendance: tuple[ProjectionRunner[Any], int, int]
) -> None:
    _, poison, before = poisoned_attendance

    status = hot_attendance(database_url, "status")
    report = hot_attendance(database_url, "report", "--month", MONTH)

    assert status.exit_code == 0, status.output
    lines = status.stdout.splitlines()
    assert lines[0] == f"attendance is at position {before}"
    assert lines[1].startswith(f"stuck at position {poison} (HUMAN_REGISTERED) since ")
    assert " UTC: RaiseException: no poison here CONTEXT: PL/pgSQL function" in lines[1]
    assert lines[2:] == [
        f"`hot-attendance --skip-position {poison} --reason ...` skips it",
        "no position skipped",
    ]
    assert report.exit_code == 0, report.output
    [warning] = report.stderr.splitlines()
    assert warning.startswith(f"attendance is stuck at position {poison} since ")
    assert ": RaiseException: no poison here CONTEXT: PL/pgSQL function" in warning
    assert warning.endswith(f"; `hot-attendance --skip-position {poison} --reason ...` skips it")
    assert "Nobody attended this month." in report.stdout  # but not alone any more


@pytest.mark.postgres
@pytest.mark.redis
def test_hot_status_lists_the_projection_with_its_lag_and_where_it_is_stuck(
    app: HumansApplication,
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
    poisoned_attendance: tuple[ProjectionRunner[Any], int, int],
) -> None:
    _, poison, before = poisoned_attendance
    env = {
        "HOT_DATABASE_URL": database_url,
        "HOT_REDIS_URL": redis_server_url,
        "HOT_REDIS_PREFIX": redis_prefix,
    }
    behind = len([e for e in full_log(app) if e.position > before])

    status = CliRunner(env=env).invoke(main, ["status"])

    assert status.exit_code == 0, status.output
    [line] = [line for line in status.stdout.splitlines() if line.startswith("projection:")]
    assert line.startswith(
        f"projection:   attendance: position {before}, lag {behind} event(s), "
        f"STUCK at {poison} (HUMAN_REGISTERED) since "
    )


@pytest.mark.postgres
def test_skip_position_is_recorded_with_who_and_why_and_the_follower_goes_past_it(
    app: HumansApplication,
    database_url: str,
    poisoned_attendance: tuple[ProjectionRunner[Any], int, int],
) -> None:
    runner, poison, before = poisoned_attendance

    passed = hot_attendance(database_url, "--skip-position", str(before), "--reason", "why")
    no_reason = hot_attendance(database_url, "--skip-position", str(poison))
    skipped = hot_attendance(
        database_url, "--skip-position", str(poison), "--reason", "a test pill", "--by", "ops"
    )
    again = hot_attendance(database_url, "--skip-position", str(poison), "--reason", "again")
    far = app.head() + 1000
    by_default = hot_attendance(database_url, "--skip-position", str(far), "--reason", "later")

    assert passed.exit_code == 1
    assert passed.stderr == (
        f"Error: Position {before} of 'attendance' cannot be skipped: the projection is at "
        f"position {before}, past it; only a position after {before} can be.\n"
    )
    assert no_reason.exit_code == 2
    assert "--skip-position needs --reason TEXT" in no_reason.stderr
    assert skipped.exit_code == 0, skipped.output
    assert skipped.stdout == (
        f"attendance: position {poison} skipped by ops, recorded: a test pill\n"
    )
    assert again.exit_code == 1
    assert "already skipped" in again.stderr
    assert by_default.exit_code == 0, by_default.output
    assert f"skipped by {getpass.getuser()}, recorded: later" in by_default.stdout
    status = hot_attendance(database_url, "status").stdout.splitlines()
    assert status[-3] == "skipped positions:"
    assert status[-2].startswith(f"  {poison}: by ops at ")
    assert status[-2].endswith(" UTC: a test pill")
    assert status[-1].startswith(f"  {far}: by {getpass.getuser()} at ")

    again = ProjectionRunner(Attendance(), runner.store, runner.feed, personal=True)
    with running(again):
        wait_until(lambda: again.position() == app.head(), 10, "past the skipped event")
    report = hot_attendance(database_url, "report", "--month", MONTH)
    assert report.stderr == ""
    assert "Human ann (renamed)" in report.stdout
    assert again.status().stuck is None


@pytest.mark.postgres
def test_a_rebuild_from_the_command_line_skips_what_is_skipped_and_fails_in_one_line(
    app: HumansApplication,
    database_url: str,
    poisoned_attendance: tuple[ProjectionRunner[Any], int, int],
    personal_api: tuple[str, str],
) -> None:
    runner, poison, _ = poisoned_attendance
    names = runner.projection.names
    hot_attendance(database_url, "--skip-position", str(poison), "--reason", "a test pill")
    head = full_log(app, names)[-1].position
    api = ("--api-url", personal_api[0], "--token", personal_api[1])  # names: the poison's

    rebuilt = hot_attendance(database_url, *api, "--rebuild")
    tables = actual_tables(database_url)
    app.register("Poison Again", "again@example.org", HumanKind.GUEST)
    read = full_log(app, names)
    failed = hot_attendance(database_url, *api, "--rebuild")

    assert rebuilt.exit_code == 0, rebuilt.output
    assert rebuilt.stdout == f"attendance rebuilt up to position {head}.\n"
    assert "Poison Pill" not in str(tables["attendance_humans"])
    assert failed.exit_code == 1
    [line] = failed.stderr.splitlines()
    assert line.startswith(
        f"Error: Rebuilding 'attendance' failed on an event at positions {read[0].position} to "
        f"{read[-1].position}, so nothing changed: RaiseException: no poison here"
    )
    assert actual_tables(database_url) == tables
    assert runner.position() == head
