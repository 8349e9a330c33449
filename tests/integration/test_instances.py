"""Two ``hot serve`` instances on two ports, against one PostgreSQL and one Redis, as
behind a load balancer: each commits in groups and writes through, each runs a relay (one
leads), an ``Idempotency-Key`` holds across them, and when one is killed with SIGKILL
mid-load, every acknowledged write is in the log and the streams equal the log."""

from __future__ import annotations

import http.client
import json
import threading
import uuid
from typing import Any

import pytest
import redis

from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    public_log,
    wait_caught_up,
)
from tests.processes import HotProcess, Processes
from tests.serving import free_port
from tests.waiting import wait_until
from tests.workers import Connection, answers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def instances(database_url: str, processes: Processes) -> tuple[list[tuple[HotProcess, int]], str]:
    """Two ``hot serve`` processes on ports of their own, and an admin token."""
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create("instances", ["admin"])
    started = []
    for _ in range(2):
        port = free_port()
        started.append((processes.hot(["serve", "--port", str(port)]).start(), port))
    for _, port in started:
        wait_until(lambda port=port: answers(port), 60, f"hot serve on {port} answers")
    return started, token


def register_joined(connection: Connection, n: int) -> str:
    email = f"i-{n}-{uuid.uuid4().hex[:6]}@trantor.example"
    status, human = connection.call(
        "POST", "/humans", {"name": f"I{n}", "email": email, "kind": "guest"}
    )
    assert status == 201, human
    status, joined = connection.call(
        "POST", f"/humans/{human['id']}/join", {"on": "2020-01-01", "role": "x"}
    )
    assert status == 200, joined
    return str(human["id"])


def relay_state(connection: Connection) -> str:
    """The state of the instance's relay as its readiness reports it (active: it leads)."""
    _, ready = connection.call("GET", "/health/ready")
    return str(ready["checks"]["relay"]["info"]["state"])


def test_an_idempotency_key_holds_across_instances(
    instances: tuple[list[tuple[HotProcess, int]], str],
) -> None:
    servers, token = instances
    first, second = (Connection(port, token) for _, port in servers)
    human_id = register_joined(first, 0)
    key = {"Idempotency-Key": f"attend-{uuid.uuid4()}"}
    path, body = f"/humans/{human_id}/attend", {"on": "2020-01-02"}

    replies = [c.call("POST", path, body, key) for c in (first, second, second, first)]

    assert {status for status, _ in replies} == {200}
    assert len({json.dumps(reply) for _, reply in replies}) == 1  # the first answer, each time
    status, events = second.call("GET", f"/humans/{human_id}/events")
    assert status == 200
    assert [e["name"] for e in events["events"]] == [
        "HUMAN_REGISTERED",
        "HUMAN_JOINED",
        "HUMAN_ATTENDED",
    ]


def test_one_instance_killed_mid_load_loses_no_acknowledged_write(
    instances: tuple[list[tuple[HotProcess, int]], str],
    app: HumansApplication,
    client: redis.Redis,
    redis_prefix: str,
) -> None:
    servers, token = instances
    connections = [Connection(port, token) for _, port in servers]
    wait_until(lambda: "active" in [relay_state(c) for c in connections], 30, "one relay leads")
    leading = [relay_state(c) for c in connections].index("active")
    (leader, _), survivor = servers[leading], connections[1 - leading]
    first, second = connections[leading], survivor  # the leader's instance is killed
    humans = [register_joined((first, second)[n % 2], n) for n in range(10)]
    acknowledged: list[tuple[str, str]] = []  # (human, day) of every 200 answer
    refused: list[Any] = []
    killed = threading.Event()

    def attend(connection: Connection, month: int) -> None:
        for day in range(1, 29):
            for human_id in humans:
                on = f"2020-{month:02d}-{day:02d}"
                try:
                    status, reply = connection.call(
                        "POST", f"/humans/{human_id}/attend", {"on": on}
                    )
                except (OSError, http.client.HTTPException):  # the killed instance's: unknown
                    assert killed.is_set()
                    return
                if status == 200:
                    acknowledged.append((human_id, on))
                else:
                    refused.append((status, reply))

    loads = [
        threading.Thread(target=attend, args=(first, 2)),
        threading.Thread(target=attend, args=(second, 3)),
    ]
    for load in loads:
        load.start()
    wait_until(lambda: len(acknowledged) >= 100, 60, "both instances have taken writes")
    killed.set()
    leader.kill()  # SIGKILL, mid-load: no shutdown of any kind, and its relay led
    for load in loads:
        load.join(180)

    assert refused == [], refused[:3]
    second_month = [a for a in acknowledged if a[1].startswith("2020-03")]
    assert len(second_month) == 28 * len(humans)  # the survivor took all of its writes
    recorded = {
        (str(e.subject), e.payload["on"]) for e in public_log(app) if e.name == "HUMAN_ATTENDED"
    }
    assert set(acknowledged) <= recorded  # every acknowledged write is in the log
    wait_until(lambda: relay_state(survivor) == "active", 60, "the survivor's relay leads")
    wait_caught_up(client, redis_prefix, app, timeout=60)
    log = assert_streams_match_log(client, redis_prefix, app)
    assert len(log) == 2 * len(humans) + len(recorded)
