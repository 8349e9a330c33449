"""``hot relay`` as real processes: a clean stop, two at once, a takeover, its status."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import psycopg
import pytest
import redis
from click.testing import CliRunner

from hot.application import HumansApplication
from hot.cli import main
from hot.infra.personal_keys import LISTENER_NAME
from hot.infra.relay.leader import lock_holder
from hot.infra.relay.source import EventLog
from tests.activity import connections
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    wait_caught_up,
    write_humans,
)
from tests.processes import Processes
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def test_sigterm_stops_the_relay_cleanly(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_prefix: str,
    processes: Processes,
) -> None:
    relay = processes.relay().start()
    relay.wait_active()
    write_humans(app, 200, joining=50)
    wait_caught_up(client, redis_prefix, app)

    started = time.monotonic()
    assert relay.terminate() == 0, relay.output()
    assert time.monotonic() - started < 5
    assert lock_holder(database_url, redis_prefix) is None
    assert_streams_match_log(client, redis_prefix, app)


def test_two_relays_publish_once_and_the_survivor_takes_over(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_prefix: str,
    processes: Processes,
) -> None:
    first = processes.relay().start()
    active = first.wait_active()
    second = processes.relay().start()
    for _ in range(5):
        write_humans(app, 100, joining=30)
    wait_caught_up(client, redis_prefix, app)
    assert lock_holder(database_url, redis_prefix) == active  # the second one waits

    first.kill()
    killed_at = time.monotonic()
    write_humans(app, 100, joining=30)
    wait_caught_up(client, redis_prefix, app, timeout=10)

    assert time.monotonic() - killed_at < 5  # handed over within seconds
    assert lock_holder(database_url, redis_prefix) not in (None, active)
    assert second.process is not None
    assert second.process.poll() is None  # the survivor runs on
    assert_streams_match_log(client, redis_prefix, app)


def test_relay_status_shows_head_streams_and_lag(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
    processes: Processes,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOT_DATABASE_URL", database_url)
    monkeypatch.setenv("HOT_REDIS_URL", redis_server_url)
    monkeypatch.setenv("HOT_REDIS_PREFIX", redis_prefix)
    write_humans(app, 30, joining=10)
    runner = CliRunner()

    before = json.loads(runner.invoke(main, ["relay", "status", "--json"]).output)
    assert (before["head"], before["lag"], before["leader_pid"]) == (EventLog(app).head(), 40, None)
    assert set(before["streams"].values()) == {0}
    assert before["sql_read"] == {"position": 0, "lag": 40, "projector_pid": None}

    processes.relay().start().wait_active()
    wait_caught_up(client, redis_prefix, app)

    def status() -> dict[str, Any]:
        return dict(json.loads(runner.invoke(main, ["relay", "status", "--json"]).output))

    wait_until(lambda: status()["sql_read"]["lag"] == 0, 30, "hot_read caught up")
    after = status()
    text = runner.invoke(main, ["relay", "status"]).output

    assert after["lag"] == 0
    assert after["leader_pid"] is not None
    assert after["streams"][f"{redis_prefix}:events"] == after["head"]
    assert after["lengths"][f"{redis_prefix}:events:HUMAN_JOINED"] == 10
    assert f"{redis_prefix}:events:HUMAN_REGISTERED: last id" in text
    assert "lag:          0 event(s)" in text
    assert after["sql_read"]["position"] == after["head"]
    assert after["sql_read"]["projector_pid"] is not None  # the relay's process projects
    assert f"hot_read:     position {after['head']}, lag 0 event(s)" in text
    first_joined = after["firsts"][f"{redis_prefix}:events:HUMAN_JOINED"]
    assert 0 < first_joined <= after["streams"][f"{redis_prefix}:events:HUMAN_JOINED"]


def test_hot_status_is_one_screen_of_servers_streams_hot_read_and_keys(
    app: HumansApplication,
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The test's URL with a password (an external server's has none, an embedded one's
    # an empty one): the screen must hide it.
    secret_url = re.sub(r"^postgresql://([^:@/]*)(:[^@]*)?@", r"postgresql://\1:pw@", database_url)
    monkeypatch.setenv("HOT_DATABASE_URL", secret_url)
    monkeypatch.setenv("HOT_REDIS_URL", redis_server_url)
    monkeypatch.setenv("HOT_REDIS_PREFIX", redis_prefix)
    write_humans(app, 3, joining=2)

    result = CliRunner().invoke(main, ["status"])

    assert result.exit_code == 0, result.output
    text = result.output
    assert ":pw@" not in text
    assert f"database:     external, {secret_url.replace(':pw@', ':***@')}" in text
    assert f"redis:        external, {redis_server_url}" in text
    assert f"log head:     {EventLog(app).head()}" in text
    assert "lag:          5 event(s)" in text  # no relay runs
    assert "relay active: no" in text
    assert f"{redis_prefix}:events: missing" in text
    assert "hot_read:     position 0, lag 5 event(s)" in text
    assert "projections:  none keeps its position in this database" in text
    assert "API keys:" in text


def test_relay_waits_for_the_first_event(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_prefix: str,
    processes: Processes,
) -> None:
    backend = processes.relay().start().wait_active()
    # On an empty log, it has read the log's first (empty) page, and waits for more.
    wait_until(lambda: read_the_log(database_url, backend), 30, "the relay read the empty log")
    write_humans(app, 1)
    wait_until(lambda: client.xlen(f"{redis_prefix}:events") == 1, 15, "the first event arrives")
    assert_streams_match_log(client, redis_prefix, app)


def read_the_log(database_url: str, backend: int) -> bool:
    """Whether PostgreSQL's ``backend`` is idle after reading a page of the log (a relay's
    reads go through its lock's connection, whose backend ``wait_active`` gives)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = %s", (backend,)
        ).fetchone()
    return row is not None and row[0] == "idle" and "ORDER BY notification_id LIMIT" in row[1]


@pytest.mark.parametrize(("stream_personal", "listeners"), [("off", 0), ("on", 1)])
def test_only_a_relay_streaming_personal_fields_listens_for_forgettings(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_prefix: str,
    processes: Processes,
    stream_personal: str,
    listeners: int,
) -> None:
    before = connections(database_url, LISTENER_NAME)  # the test's own application listens
    processes.relay(HOT_STREAM_PERSONAL=stream_personal).start().wait_active()

    assert connections(database_url, LISTENER_NAME) - before == listeners
    write_humans(app, 5)
    wait_caught_up(client, redis_prefix, app)  # and it publishes either way
