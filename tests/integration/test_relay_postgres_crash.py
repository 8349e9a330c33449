"""The relay outliving a real PostgreSQL crash: the postmaster is SIGKILLed and started
again on the same data, and the relay goes on by itself, streams equal to the log."""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest
import redis
from eventsourcing.persistence import InterfaceError, OperationalError

from hot.application import HumansApplication
from tests.blocking import blocking_application
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    running_relay,
    wait_caught_up,
    write_humans,
)
from tests.processes import KillablePostgres
from tests.waiting import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def retried(write: Callable[[], None], seconds: float = 30) -> None:
    """Write once PostgreSQL takes connections again (it was started just before, so a
    failed attempt wrote nothing)."""
    give_up = time.monotonic() + seconds
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() > give_up:
                raise
            time.sleep(0.2)


def test_the_relay_goes_on_by_itself_after_postgresql_crashes_and_restarts(
    killable_postgres: KillablePostgres, redis_server_url: str, redis_prefix: str
) -> None:
    app: HumansApplication = blocking_application(killable_postgres.url)
    client = redis.Redis.from_url(redis_server_url)
    try:
        with running_relay(app, client, killable_postgres.url, redis_prefix) as relay:
            write_humans(app, 20, joining=5)
            wait_caught_up(client, redis_prefix, app)

            killable_postgres.kill()
            time.sleep(1.0)  # the relay finds its connections dead meanwhile
            killable_postgres.start()
            retried(lambda: write_humans(app, 20, joining=5))
            wait_caught_up(client, redis_prefix, app, timeout=60)
            wait_until(lambda: relay.status().state == "active", 30, "the relay is active")

            retried(lambda: write_humans(app, 20, joining=5))
            wait_caught_up(client, redis_prefix, app, timeout=30)
        assert_streams_match_log(client, redis_prefix, app)
    finally:
        app.close()
