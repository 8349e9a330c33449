"""Writers that write through, killed with SIGKILL at random moments of their writing
while a relay runs: whatever a kill interrupts (a commit, the publish after it), the
streams still equal the log, and the relay publishes what a killed writer did not."""

from __future__ import annotations

import random
import sys
import time

import pytest
import redis

from hot.application import HumansApplication
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    running_relay,
    wait_caught_up,
)
from tests.processes import Processes

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

KILLS = 10


def _last_count(output: str) -> int:
    lines = output.split()
    return int(lines[-1]) if lines else 0


def test_killed_writers_leave_the_streams_equal_to_the_log(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
    processes: Processes,
) -> None:
    rng = random.Random()
    written_through = 0
    module = [sys.executable, "-m", "tests.integration.writer_process"]
    with running_relay(app, client, database_url, redis_prefix):
        for kill in range(KILLS):
            args = [database_url, redis_server_url, redis_prefix, str(kill)]
            writer = processes.command([*module, *args]).start()
            writer.wait_for_output("\n", 60, "the writer writes")  # its first commit
            time.sleep(rng.uniform(0.0, 1.0))  # a random moment of writing at full speed
            returncode, output = writer.kill(), writer.output()
            assert returncode == -9, output[-2000:]
            written_through += _last_count(output)
        wait_caught_up(client, redis_prefix, app, timeout=60)

    log = assert_streams_match_log(client, redis_prefix, app)
    assert len(log) >= KILLS * 3
    assert 0 < written_through <= len(log)
    print(f"{len(log)} events, {written_through} of them written through")
