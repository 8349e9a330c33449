"""``hot serve``'s background process (``hot.cli.background``): the relay and the SQL
read projector run beside the API in a process of their own, their statuses reach the
API's readiness, and the process lives no longer than the one serving."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis

from hot.infra.api_keys import ApiKeyStore
from hot.infra.relay.leader import lock_holder
from hot.infra.sql_read.projector import READ_LOCK
from hot.infra.sql_read.schema import read_position
from tests.processes import HotProcess, Processes
from tests.serving import free_port
from tests.waiting import wait_until
from tests.workers import Connection, answers, children

pytestmark = pytest.mark.redis


@pytest.fixture
def serving(database_url: str, processes: Processes) -> Iterator[tuple[HotProcess, Connection]]:
    """``hot serve`` (one worker), once its relay and projector are both active."""
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create("background", ["admin"])
    port = free_port()
    process = processes.hot(["serve", "--port", str(port)]).start()
    wait_until(lambda: answers(port), 60, "hot serve answers")
    connection = Connection(port, token)
    wait_until(lambda: states(connection) == ("active", "active"), 60, "both loops active")
    return process, connection


def readiness(connection: Connection) -> tuple[int, dict[str, Any]]:
    status, body = connection.call("GET", "/health/ready")
    return status, body["checks"]


def states(connection: Connection) -> tuple[str, str]:
    _, checks = readiness(connection)
    return checks["relay"]["info"]["state"], checks["sql_read"]["info"]["state"]


def metric(connection: Connection, name: str) -> float:
    """The value of the metric ``name`` (without labels) in the API's scrape."""
    connection.http.request("GET", "/metrics")
    text = connection.http.getresponse().read().decode()
    values = [line.split()[1] for line in text.splitlines() if line.split(" ")[0] == name]
    assert len(values) == 1, f"{name}: {values}"
    return float(values[0])


def spawned(serving_pid: int) -> list[int]:
    """The children of ``hot serve`` that multiprocessing spawned (not its resource
    tracker)."""
    return [
        pid
        for pid in children(serving_pid)
        if "spawn_main" in Path(f"/proc/{pid}/cmdline").read_text(errors="replace")
    ]


def background_of(serving_pid: int) -> int:
    """The background process of ``hot serve``: its one spawned child."""
    found = spawned(serving_pid)
    assert len(found) == 1, found
    return found[0]


def gone(pid: int) -> bool:
    """Whether the process has ended (a zombie not yet reaped by its parent counts)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def test_the_relay_and_projector_run_in_a_process_of_their_own(
    serving: tuple[HotProcess, Connection],
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    process, connection = serving
    assert process.process is not None
    background = background_of(process.process.pid)

    status, human = connection.call(
        "POST", "/humans", {"name": "Hari", "email": "hari@trantor.test", "kind": "employee"}
    )

    assert status == 201, human
    relay_backend = lock_holder(database_url, redis_prefix)
    projector_backend = lock_holder(database_url, "", keys=READ_LOCK)
    assert relay_backend is not None
    assert projector_backend is not None
    with psycopg.connect(database_url, autocommit=True) as conn:
        wait_until(lambda: read_position(conn) >= human["position"], 10, "hot_read has it")
    with redis.Redis.from_url(redis_server_url) as client:
        wait_until(lambda: client.xlen(f"{redis_prefix}:events") >= 1, 10, "the stream has it")
    wait_until(
        lambda: readiness(connection)[1]["sql_read"]["info"]["position"] == human["position"],
        10,
        "the projector's position, as readiness reports it",
    )

    # Its metrics are in the API's scrape, added up with the API process's.
    wait_until(
        lambda: metric(connection, "hot_sql_read_position") == human["position"],
        10,
        "the projector's position in /metrics",
    )
    assert metric(connection, "hot_relay_published_position") >= human["position"]

    assert process.terminate(30) == 0, process.output()
    wait_until(lambda: gone(background), 10, "the background process ended with hot serve")


def test_a_killed_serve_takes_its_background_process_and_its_locks_along(
    serving: tuple[HotProcess, Connection], database_url: str, redis_prefix: str
) -> None:
    process, _ = serving
    assert process.process is not None
    background = background_of(process.process.pid)

    assert process.kill() == -9

    wait_until(lambda: gone(background), 15, "the background process ended")
    wait_until(lambda: lock_holder(database_url, redis_prefix) is None, 10, "relay lock freed")
    assert lock_holder(database_url, "", keys=READ_LOCK) is None


def test_the_loops_locks_are_the_background_process_s_and_readiness_fails_without_it(
    serving: tuple[HotProcess, Connection], database_url: str, redis_prefix: str
) -> None:
    process, connection = serving
    assert process.process is not None
    assert lock_holder(database_url, redis_prefix) is not None
    assert lock_holder(database_url, "", keys=READ_LOCK) is not None

    os.kill(background_of(process.process.pid), 9)

    # Its connections held the locks: they go with it, though hot serve runs on.
    wait_until(lambda: lock_holder(database_url, redis_prefix) is None, 10, "relay lock freed")
    wait_until(lambda: lock_holder(database_url, "", keys=READ_LOCK) is None, 10, "read lock")
    assert process.running()
    wait_until(lambda: readiness(connection)[0] == 503, 10, "readiness fails")
    _, checks = readiness(connection)
    for loop in ("relay", "sql_read"):
        assert checks[loop]["ok"] is False
        assert checks[loop]["info"]["state"] == "stopped"
        assert "the background process ended (exit code -9)" in checks[loop]["info"]["error"]
    assert checks["postgres"]["ok"] is True  # the API itself still serves
    status, _ = connection.call("GET", "/health/live")
    assert status == 200


def test_nothing_runs_in_the_background_with_both_loops_off(
    database_url: str, processes: Processes
) -> None:
    port = free_port()
    process = processes.hot(
        ["serve", "--port", str(port)], HOT_RELAY="off", HOT_SQL_READ="off"
    ).start()
    wait_until(lambda: answers(port), 60, "hot serve answers")
    assert process.process is not None
    assert spawned(process.process.pid) == []
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    conn.request("GET", "/health/ready")
    response = conn.getresponse()
    assert response.status == 200
    assert b'"relay"' not in response.read()
