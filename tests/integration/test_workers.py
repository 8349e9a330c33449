"""``hot serve`` with ``HOT_WORKERS=2``, end to end: two processes deciding commands on
what each knows, committing in groups and writing through, beside the relay the parent
runs. An ``Idempotency-Key`` holds across the workers, and the streams equal the log."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from hot.application import HumansApplication
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    wait_caught_up,
)
from tests.processes import HotProcess, Processes
from tests.workers import one_per_worker, two_workers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]


@pytest.fixture
def server(database_url: str, processes: Processes) -> Iterator[tuple[HotProcess, int, str]]:
    """``hot serve`` with two workers: the process, its port and an admin token."""
    with two_workers(database_url, processes, "workers") as running:
        yield running


def test_an_idempotency_key_holds_across_the_workers(
    server: tuple[HotProcess, int, str],
) -> None:
    process, port, token = server
    assert process.process is not None
    first, second = one_per_worker(port, token, process.process.pid)
    email = f"w-{uuid.uuid4().hex[:8]}@trantor.example"
    status, human = first.call(
        "POST", "/humans", {"name": "Raych", "email": email, "kind": "guest"}
    )
    assert status == 201, human
    human_id = human["id"]
    assert (
        first.call("POST", f"/humans/{human_id}/join", {"on": "2020-01-01", "role": "x"})[0] == 200
    )
    key = {"Idempotency-Key": f"attend-{uuid.uuid4()}"}
    path, body = f"/humans/{human_id}/attend", {"on": "2020-01-02"}

    answers = [c.call("POST", path, body, key) for c in (first, second, first, second)]

    assert {status for status, _ in answers} == {200}
    assert len({json.dumps(answer) for _, answer in answers}) == 1  # the first answer, each time
    status, events = second.call("GET", f"/humans/{human_id}/events")
    assert [e["name"] for e in events["events"]] == [
        "HUMAN_REGISTERED",
        "HUMAN_JOINED",
        "HUMAN_ATTENDED",
    ]


def test_two_workers_under_load_keep_the_streams_equal_to_the_log(
    server: tuple[HotProcess, int, str],
    app: HumansApplication,
    client: redis.Redis,
    redis_prefix: str,
) -> None:
    process, port, token = server
    assert process.process is not None
    connections = one_per_worker(port, token, process.process.pid)
    humans = []
    for n in range(20):  # each human registered and joined through one worker...
        c = connections[n % 2]
        email = f"load-{n}-{uuid.uuid4().hex[:6]}@trantor.example"
        status, human = c.call(
            "POST", "/humans", {"name": f"L{n}", "email": email, "kind": "guest"}
        )
        assert status == 201, human
        assert (
            c.call("POST", f"/humans/{human['id']}/join", {"on": "2020-01-01", "role": "x"})[0]
            == 200
        )
        humans.append(human["id"])
    failures: list[Any] = []

    def attend(worker: int) -> None:  # ...then attended through both workers at once
        c = connections[worker]
        for day in range(1, 16):
            for human_id in humans[worker::2] + humans[1 - worker :: 2]:
                on = f"2020-02-{day:02d}" if worker == 0 else f"2020-03-{day:02d}"
                status, answer = c.call("POST", f"/humans/{human_id}/attend", {"on": on})
                if status != 200:
                    failures.append((status, answer))

    threads = [threading.Thread(target=attend, args=(w,)) for w in (0, 1)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert failures == [], failures[:3]
    assert time.monotonic() - started < 120

    wait_caught_up(client, redis_prefix, app, timeout=30)
    log = assert_streams_match_log(client, redis_prefix, app)
    assert len(log) == 20 * 2 + 2 * 15 * 20
