"""The relay in-process, on real PostgreSQL and Redis: order, completeness, resumption."""

from __future__ import annotations

import threading
import time
from datetime import UTC, date, datetime, timedelta

import pytest
import redis

from hot.application import CATALOG, HumansApplication
from hot.domain import HumanKind
from hot.infra.relay import Relay, StreamKeys
from hot.infra.relay.retention import RetentionWindow
from hot.infra.relay.source import EventLog
from hot.infra.settings import StreamRetention
from tests.integration.relay_fixtures import (
    FAST,
    assert_streams_match_log,
    public_log,
    relay_until_caught_up,
    running_relay,
    stream,
    streamed,
    wait_caught_up,
    write_humans,
)
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _writer(app: HumansApplication, tag: str, count: int, errors: list[BaseException]) -> None:
    try:
        for i in range(count):
            human = app.register(f"W {tag} {i}", f"w{tag}-{i}@example.org", HumanKind.CONTRACTOR)
            if i % 2 == 0:
                app.join(human.id, date(2026, 2, 1), "writer")
            if i % 6 == 0:
                app.leave(human.id, date(2026, 3, 1), "done")
    except BaseException as error:  # reported by the test thread
        errors.append(error)


def test_streams_equal_the_log_after_concurrent_writers(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    write_humans(app, 300, joining=100)  # a backlog before the relay starts
    with running_relay(app, client, database_url, redis_prefix):
        errors: list[BaseException] = []
        writers = [
            threading.Thread(target=_writer, args=(app, str(t), 60, errors)) for t in range(4)
        ]
        for writer in writers:
            writer.start()
        for writer in writers:
            writer.join()
        assert errors == []
        wait_caught_up(client, redis_prefix, app)

    log = assert_streams_match_log(client, redis_prefix, app)
    names = {e.name for e in log}
    assert {"HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_LEFT"} <= names
    assert len(log) == 300 + 100 + 4 * (60 + 30 + 10)


def test_a_backlog_read_ahead_in_many_small_batches_equals_the_log(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    for _ in range(4):
        write_humans(app, 250, joining=60)
    with running_relay(app, client, database_url, redis_prefix, batch_size=64):
        write_humans(app, 250, joining=60)  # while it catches up
        wait_caught_up(client, redis_prefix, app)

    assert len(assert_streams_match_log(client, redis_prefix, app)) == 5 * 310


def test_a_restarted_relay_goes_on_where_redis_stands(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    write_humans(app, 50, joining=10)
    relay_until_caught_up(app, client, database_url, redis_prefix)
    write_humans(app, 50, joining=20)
    with running_relay(app, client, database_url, redis_prefix) as relay:
        wait_caught_up(client, redis_prefix, app)
        # Redis has everything a moment before the relay finds nothing more to read.
        wait_until(lambda: relay.status().caught_up, 10, "the relay reports it caught up")
        status = relay.status()

    assert_streams_match_log(client, redis_prefix, app)
    assert (status.state, status.caught_up, status.lag) == ("active", True, 0)
    assert status.published == EventLog(app).head()


def test_a_per_name_stream_that_fell_behind_is_filled_on_start(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    write_humans(app, 40, joining=15)
    relay_until_caught_up(app, client, database_url, redis_prefix)
    stream_keys = StreamKeys(redis_prefix, CATALOG.names)
    client.delete(stream_keys.of("HUMAN_JOINED"))
    client.xtrim(stream_keys.of("HUMAN_REGISTERED"), minid="30", approximate=False)

    with running_relay(app, client, database_url, redis_prefix) as relay:
        wait_caught_up(client, redis_prefix, app)
        # Redis stood at the log's head before the start: the relay fills the names'
        # streams as it plans, and only then, having read to the log's end, reports
        # caught up (a stream it left short or filled too far is then final).
        wait_until(lambda: relay.status().caught_up, 30, "the relay filled and caught up")

    registered = [e for e in streamed(public_log(app)) if e.name == "HUMAN_REGISTERED"]
    joined = [e for e in streamed(public_log(app)) if e.name == "HUMAN_JOINED"]
    assert [e for _, e in stream(client, stream_keys.of("HUMAN_JOINED"))] == joined
    # The trimmed stream is not refilled below what it still has: only its tail is kept.
    assert [e for _, e in stream(client, stream_keys.of("HUMAN_REGISTERED"))] == [
        e for e in registered if e.position >= 30
    ]


def test_count_retention_trims_the_streams_and_keeps_the_newest(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    with running_relay(
        app, client, database_url, redis_prefix, retention=StreamRetention(count=100)
    ):
        for _ in range(3):
            write_humans(app, 400)
            wait_caught_up(client, redis_prefix, app)

    entries = stream(client, StreamKeys(redis_prefix, CATALOG.names).all)
    log = streamed(public_log(app))
    assert 100 <= len(entries) < 400  # trimmed by whole nodes ("MAXLEN ~")
    assert [e for _, e in entries] == log[-len(entries) :]


def test_a_fresh_relay_publishes_only_the_retained_tail(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    write_humans(app, 120, joining=40)
    with running_relay(
        app, client, database_url, redis_prefix, retention=StreamRetention(count=25)
    ):
        wait_caught_up(client, redis_prefix, app)

    tail = public_log(app)[-25:]
    assert_streams_match_log(client, redis_prefix, app, after=tail[0].position - 1)


def test_age_retention_finds_where_the_window_starts(app: HumansApplication) -> None:
    write_humans(app, 30, joining=5)
    time.sleep(0.3)
    between = datetime.now(UTC)
    time.sleep(0.3)
    write_humans(app, 30, joining=5)
    first_new = next(e for e in public_log(app) if e.time >= between)
    log = EventLog(app)

    assert log.first_since(between) == first_new.position
    assert log.first_since(between - timedelta(days=1)) == 1
    assert log.first_since(between + timedelta(days=1)) > log.head()
    window = RetentionWindow(
        StreamRetention(age=timedelta(hours=1)),
        log,
        clock=lambda: (between + timedelta(hours=1)).timestamp(),
    )
    assert window.floor() == first_new.position - 1
    assert window.trim().kind == "minid"
    assert window.trim().value == first_new.position


def test_stop_ends_the_relay_and_status_says_so(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    relay = Relay(app, client, database_url, prefix=redis_prefix, **FAST)
    assert relay.status().state == "starting"
    relay.start()
    write_humans(app, 10)
    wait_caught_up(client, redis_prefix, app)
    started = time.monotonic()
    relay.stop()

    assert time.monotonic() - started < 2
    assert relay.status().state == "stopped"
