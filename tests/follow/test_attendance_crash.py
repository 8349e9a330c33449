"""Exactly once through crashes: ``hot-attendance`` killed with SIGKILL again and again.

While writers record lives, the projector keeps ``hot_read`` in step and the relay
publishes them, the ``hot-attendance`` process (reading ``hot_read`` with a SQL
reader's role, then Redis) is killed at random moments (always after it has started following, often
halfway through a batch) and started again, at least ten times. At the end its
tables must equal both a model of the log and a rebuild from scratch: an effect
lost or applied twice by any crash would show.
"""

from __future__ import annotations

import contextlib
import random
import signal
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import redis

from hot.application import HumansApplication
from hot.infra.database import drop_database
from hot.infra.sql_read.projector import SqlReadProjector
from hot_attendance import Attendance
from hot_follow import Feed, PostgresProjectionStore, ProjectionRunner
from tests.conftest import SqlReader
from tests.event_log import live_a_life
from tests.processes import KillableProcess, Processes
from tests.waiting import wait_until

from .attendance_model import actual_tables, expected_tables, stored_position
from .conftest import full_log, running_projector, running_relay, writing

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

KILLS = 10


def attendance_process(
    processes: Processes, sql_reader: SqlReader, attendance_database_url: str, **env: str
) -> KillableProcess:
    """``hot-attendance`` (the workspace member's script) on ``hot_read`` as a SQL reader."""
    script = str(Path(sys.executable).parent / "hot-attendance")
    settings = {
        "HOT_READ_URL": sql_reader.url,
        "HOT_ATTENDANCE_DATABASE_URL": attendance_database_url,
        "HOT_REDIS_URL": processes.redis_url,
        "HOT_REDIS_PREFIX": processes.prefix,
    }
    return processes.command([script], **{**settings, **env})


def wait_following(process: KillableProcess) -> None:
    process.wait_for_output("following from position", 30, "hot-attendance starts following")


def test_killed_again_and_again_the_tables_equal_a_rebuild(
    app: HumansApplication,
    database_url: str,
    attendance_database_url: str,
    redis_server_url: str,
    redis_prefix: str,
    processes: Processes,
    sql_reader: SqlReader,
) -> None:
    rng = random.Random(5)
    client = redis.Redis.from_url(redis_server_url)
    process = attendance_process(processes, sql_reader, attendance_database_url)
    kills = 0
    try:
        with running_projector(database_url):  # hot_read in step until the end
            with (
                running_relay(database_url, client, redis_prefix),
                writing(app, 400, 30, writers=8, stop_at_end=True),
            ):
                while kills < KILLS:
                    wait_following(process.start())
                    time.sleep(rng.uniform(0.05, 0.8))
                    assert process.kill() == -signal.SIGKILL
                    kills += 1
                process.start()  # the last one lives: it catches up with the rest of the load
            wait_following(process)
            head = full_log(app)[-1].position
            wait_until(lambda: stored_position(attendance_database_url) == head, 60, "caught up")
            assert process.terminate(15) == 0  # and stops cleanly
    finally:
        client.close()

    assert kills >= 10
    incremental = actual_tables(attendance_database_url)
    assert incremental == expected_tables(full_log(app, personal=False))  # names masked

    feed = Feed.connect(sql_reader.url)
    with contextlib.closing(PostgresProjectionStore(attendance_database_url)) as store:
        runner = ProjectionRunner(Attendance(), store, feed)
        assert runner.rebuild() == head
    feed.close()
    assert actual_tables(attendance_database_url) == incremental


def test_sigterm_stops_it_even_while_it_waits_to_retry_a_lost_database(
    app: HumansApplication,
    postgres_server_url: str,
    attendance_database_url: str,
    processes: Processes,
    sql_reader: SqlReader,
    projector: SqlReadProjector,
) -> None:
    process = attendance_process(processes, sql_reader, attendance_database_url, HOT_REDIS_URL="")
    wait_following(process.start())
    dbname = urlsplit(attendance_database_url).path.lstrip("/")  # embedded URLs have a query
    drop_database(postgres_server_url, dbname)
    live_a_life(app, 1, "unwritable")  # its batch fails: the runner backs off and retries
    process.wait_for_output("retrying in", 30, "the runner retries")
    started = time.monotonic()
    assert process.terminate(15) == 0
    assert time.monotonic() - started < 10
