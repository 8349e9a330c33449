"""``hot relay`` killed with SIGKILL again and again under load: nothing lost, nothing twice."""

from __future__ import annotations

import random
import threading
import time

import pytest
import redis

from hot.application import HumansApplication
from hot.infra.relay.source import EventLog
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    last_position,
    wait_caught_up,
    write_humans,
)
from tests.processes import Processes

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

SAVES = 40  # of 400 registrations and 100 joins: 20,000 public events (and 16,000 internal)
KILLS = 10


def _load(app: HumansApplication, done: threading.Event, seconds: float) -> None:
    try:
        for i in range(SAVES):
            write_humans(app, 400, joining=100, tag=f"load{i}")
            time.sleep(seconds / SAVES)
    finally:
        done.set()


def test_killed_relays_leave_the_streams_equal_to_the_log(
    app: HumansApplication, client: redis.Redis, redis_prefix: str, processes: Processes
) -> None:
    rng = random.Random()
    relay = processes.relay()
    loaded = threading.Event()
    load = threading.Thread(target=_load, args=(app, loaded, 30.0))
    load.start()
    kills = busy = 0  # busy: kills while the streams were behind the log
    source = EventLog(app)

    def behind() -> bool:
        return last_position(client, f"{redis_prefix}:events") < source.head()

    try:
        while kills < KILLS or not loaded.is_set():
            relay.start().wait_active()
            if kills % 2:
                time.sleep(rng.uniform(0.0, 0.8))  # a random moment of its work
            else:  # it keeps up with the load: catch it while it publishes a burst
                deadline = time.monotonic() + 1.0
                while not behind() and time.monotonic() < deadline:
                    time.sleep(0.001)
            busy += behind()
            assert relay.kill() == -9
            kills += 1
        load.join()
        relay.start().wait_active()
        wait_caught_up(client, redis_prefix, app, timeout=60)
        assert relay.terminate() == 0, relay.output()[-2000:]
    finally:
        load.join()

    log = assert_streams_match_log(client, redis_prefix, app)
    assert len(log) == SAVES * 500
    assert kills >= KILLS
    assert busy >= 1, "no kill landed while the relay had work to do"
    print(f"{kills} kills, {busy} of them with events still to publish")
