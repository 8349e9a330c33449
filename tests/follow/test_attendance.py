"""The attendance projection, its report, and its command, ``hot-attendance``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
import redis
from click.testing import CliRunner, Result

from hot.application import HumansApplication
from hot.domain import FORGOTTEN, HumanKind
from hot.infra.postgres_log import PostgresLog
from hot.infra.sql_read.projector import SqlReadProjector
from hot_attendance import Attendance, parse_month
from hot_attendance.cli import attendance
from hot_follow import MASKED, Feed, PostgresProjectionStore, ProjectionRunner
from tests.conftest import SqlReader
from tests.event_log import TODAY
from tests.plaintext import plaintext_anywhere, plaintext_in_redis
from tests.waiting import wait_until

from .attendance_model import Tables, actual_tables, expected_tables
from .conftest import full_log, running, running_relay, wait_projected, write_lives

pytestmark = pytest.mark.postgres


@pytest.fixture
def attendance_runner(
    app: HumansApplication, database_url: str
) -> Iterator[Callable[..., ProjectionRunner[Any]]]:
    """Makes the attendance projection on the log of ``app`` (or a ``feed``), its tables
    in ``database_url``; the stores it made are closed after the test."""
    stores: list[PostgresProjectionStore] = []

    def make(feed: Feed | None = None) -> ProjectionRunner[Any]:
        stores.append(PostgresProjectionStore(database_url))
        return ProjectionRunner(
            Attendance(), stores[-1], feed or Feed(PostgresLog(app)), personal=True
        )

    yield make
    for store in stores:
        store.close()


def caught_up(runner: ProjectionRunner[Any]) -> bool:
    return runner.position() == runner.feed.head(runner.projection.names)


def backdated_memberships(app: HumansApplication) -> None:
    """Joins and leaves recorded after the days they cover were already counted."""
    day = TODAY - timedelta(days=40)
    ann = app.register("Ann", "ann@example.org", HumanKind.EMPLOYEE).id
    app.join(ann, day, "engineer")
    for offset in range(1, 8):
        app.attend(ann, day + timedelta(days=offset))
    bo = app.register("Bo", "bo@example.org", HumanKind.CONTRACTOR).id
    app.join(bo, day - timedelta(days=5), "designer")  # covers every day Ann attended
    app.leave(bo, day + timedelta(days=3), "contract ended")  # not days 4 to 7
    app.join(bo, day + timedelta(days=6), "designer")  # back for days 6 and 7
    app.attend(bo, day + timedelta(days=7))
    app.change_details(bo, name="Bo Renamed")


def test_the_tables_hold_what_the_log_says_and_a_rebuild_agrees(
    app: HumansApplication,
    database_url: str,
    attendance_runner: Callable[..., ProjectionRunner[Any]],
) -> None:
    backdated_memberships(app)
    write_lives(app, 6, 12)
    runner = attendance_runner()
    with running(runner):
        wait_until(lambda: runner.position() == app.head(), 20, "caught up")

    expected = expected_tables(full_log(app))
    assert actual_tables(database_url) == expected
    headcounts = [members for _, members in expected["attendance_headcount"]]
    assert {1, 2} <= set(headcounts)  # Bo's backdated periods counted, and not

    assert runner.rebuild() == app.head()
    assert actual_tables(database_url) == expected


def test_report_prints_a_month(
    app: HumansApplication,
    database_url: str,
    attendance_runner: Callable[..., ProjectionRunner[Any]],
) -> None:
    backdated_memberships(app)
    runner = attendance_runner()
    runner.rebuild()
    first_day = TODAY - timedelta(days=39)
    month = f"{first_day:%Y-%m}"

    result = hot_attendance("--attendance-database-url", database_url, "report", "--month", month)

    assert result.exit_code == 0, result.output
    assert f"Attendance in {month}" in result.output
    assert f"{first_day:%Y-%m-%d %a}        1        2    50%" in result.output
    assert "Ann" in result.output


def test_report_refuses_a_month_it_cannot_read(database_url: str) -> None:
    result = hot_attendance(
        "--attendance-database-url", database_url, "report", "--month", "2026-13"
    )
    assert result.exit_code == 2
    assert "YYYY-MM" in result.output


def test_rebuild_from_hot_read_shows_progress_and_masked_names(
    app: HumansApplication,
    database_url: str,
    sql_reader: SqlReader,
    projector: SqlReadProjector,
) -> None:
    write_lives(app, 4, 10)
    head = full_log(app)[-1].position
    wait_projected(projector, head)

    result = hot_attendance(
        "--attendance-database-url",
        database_url,
        "--read-url",
        sql_reader.url,
        "--rebuild",
        "--progress",
    )

    assert result.exit_code == 0, result.output
    assert f"attendance rebuilt up to position {head}." in result.output
    assert f"/ {head:,} (100.0%)" in result.output
    assert "events/s" in result.output
    tables = actual_tables(database_url)
    assert tables == expected_tables(full_log(app, personal=False))
    assert {name for _, name in tables["attendance_humans"]} == {MASKED}  # no name in hot_read


def test_it_reads_either_hot_read_or_the_api(database_url: str) -> None:
    both = hot_attendance(
        "--attendance-database-url", database_url, "--read-url", database_url, "--api-url", "x"
    )
    neither = hot_attendance("--attendance-database-url", database_url, "--rebuild")
    no_token = hot_attendance(
        "--attendance-database-url", database_url, "--api-url", "http://127.0.0.1:9"
    )

    for refused in (both, neither):
        assert refused.exit_code == 2
        assert "Read HoT with either --read-url, or --api-url and --token." in refused.output
    assert no_token.exit_code == 2
    assert "needs a token" in no_token.output


def hot_attendance(*args: str) -> Result:
    """``hot-attendance`` with ``args``, none of its settings taken from the environment."""
    env = dict.fromkeys(("HOT_REDIS_URL", "HOT_READ_URL", "HOT_API_URL", "HOT_TOKEN"), "")
    return CliRunner(env=env).invoke(attendance, list(args), prog_name="hot-attendance")


def test_months_are_written_year_dash_month() -> None:
    assert parse_month("2026-11").isoformat() == "2026-11-01"
    for wrong in ("2026-1", "2026-00", "26-11", "november"):
        with pytest.raises(ValueError, match="YYYY-MM"):
            parse_month(wrong)


def without_names(tables: Tables) -> Tables:
    """The anonymous part of the attendance tables: everything but the names."""
    return {t: rows for t, rows in tables.items() if "humans" not in t and "named" not in t}


@pytest.mark.redis
def test_a_forgotten_human_leaves_no_trace_and_every_count_stays(
    app: HumansApplication,
    database_url: str,
    redis_client: redis.Redis,
    redis_prefix: str,
    attendance_runner: Callable[..., ProjectionRunner[Any]],
) -> None:
    backdated_memberships(app)
    tag = uuid.uuid4().hex[:10]
    name, email, reason = f"Wanda Seldon {tag}", f"wanda-{tag}@trantor.test", f"Gone {tag}"
    renamed, new_email = f"Wanda S. {tag}", f"ws-{tag}@terminus.test"
    secrets = (name, email, reason, renamed, new_email)
    wanda = app.register(name, email, HumanKind.EMPLOYEE).id
    start = TODAY - timedelta(days=38)
    app.join(wanda, start, "psychohistorian")
    for day in range(0, 6, 2):
        app.attend(wanda, start + timedelta(days=day))
    app.change_details(wanda, name=renamed, email=new_email)
    app.leave(wanda, start + timedelta(days=4), reason)
    app.join(wanda, start + timedelta(days=6), "mentalic")
    app.attend(wanda, start + timedelta(days=7))
    feed = Feed(PostgresLog(app), redis_client, redis_prefix)
    runner = attendance_runner(feed)

    with running_relay(database_url, redis_client, redis_prefix, personal=True), running(runner):
        wait_until(lambda: caught_up(runner), 20, "caught up")
        # The searches find what is there: the name the projection keeps, the streams.
        assert plaintext_anywhere(database_url, *secrets) == ["public.attendance_humans.name"]
        assert plaintext_in_redis(redis_client, *secrets) != []
        before = actual_tables(database_url)

        app.forget(wanda, by="dpo@trantor.test")
        wait_until(lambda: caught_up(runner), 20, "the forgetting handled")
        wait_until(lambda: not plaintext_in_redis(redis_client, *secrets), 20, "streams erased")

    def assert_forgotten() -> None:
        assert plaintext_anywhere(database_url, *secrets) == []
        assert plaintext_in_redis(redis_client, *secrets) == []
        after = actual_tables(database_url)
        assert without_names(after) == without_names(before)  # headcounts, dates, days
        assert dict(after["attendance_humans"])[wanda] == FORGOTTEN
        assert set(after["attendance_humans"]) - set(before["attendance_humans"]) == {
            (wanda, FORGOTTEN)
        }
        assert after == expected_tables(full_log(app))

    assert_forgotten()
    memberships = [r[1:3] for r in before["attendance_memberships"] if r[0] == wanda]
    assert memberships == [(start, start + timedelta(days=4)), (start + timedelta(days=6), None)]
    assert runner.rebuild() == feed.head(runner.projection.names)
    assert_forgotten()
