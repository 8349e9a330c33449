"""A follower reads the log, then Redis, and hands out each event once, in log order."""

from __future__ import annotations

import threading
import time

import pytest
import redis
from litestar.testing import TestClient

from hot.api.app import create_app
from hot.application import HumansApplication, RecordedEvent
from hot.infra.api_keys import ApiKeyStore, Scope
from hot.infra.postgres_log import PostgresLog
from hot.infra.relay import Relay
from hot.infra.sql_read.projector import SqlReadProjector
from hot_follow import AccessDeniedError, Feed, Follower, HttpLog, UnknownEventNameError, follow
from hot_follow.representation import MASKED, masked_event
from tests.event_log import live_a_life

from .conftest import collect, full_log, go_live, wait_projected, write_lives

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def positions(events: list[RecordedEvent]) -> list[int]:
    return [e.position for e in events]


def test_without_redis_it_reads_the_log_and_polls_it(app: HumansApplication) -> None:
    write_lives(app, 3, 5)
    with Follower(PostgresLog(app), page_size=7, poll_seconds=0.05, personal=True) as follower:
        first = collect(follower, lambda got: len(got) == 27, timeout=10)
        live_a_life(app, 2, "late")
        later = collect(follower, lambda got: len(got) == 6, timeout=10)

    assert first + later == full_log(app)
    assert follower.from_redis == 0


def test_with_the_relay_it_hands_over_to_redis(
    feed: Feed, app: HumansApplication, relay: Relay
) -> None:
    write_lives(app, 3, 5)
    with feed.follow(0, personal=True) as follower:
        first = collect(follower, lambda got: len(got) == 27, timeout=10)
        live_a_life(app, 3, "late")
        later = collect(follower, lambda got: len(got) == 7, timeout=10)

    assert first + later == full_log(app)
    assert follower.live
    assert follower.from_redis >= 7  # the late events came from Redis


@pytest.mark.parametrize("names", [("HUMAN_JOINED",), ("HUMAN_ATTENDED", "HUMAN_LEFT")])
def test_names_select_the_events_and_the_streams(
    feed: Feed, app: HumansApplication, relay: Relay, names: tuple[str, ...]
) -> None:
    write_lives(app, 3, 4)
    with feed.follow(0, names, page_size=5, personal=True) as follower:
        first = collect(follower, lambda got: got[-1:] == full_log(app, names)[-1:], timeout=10)
        go_live(follower)
        write_lives(app, 2, 3)
        expected = full_log(app, names)
        later = collect(follower, lambda got: (first + got)[-1:] == expected[-1:], timeout=10)

    assert first + later == expected
    assert follower.from_redis > 0


def masked(events: list[RecordedEvent]) -> list[RecordedEvent]:
    return [masked_event(e) for e in events]


def test_personal_fields_are_masked_unless_asked_for_wherever_the_events_come_from(
    feed: Feed, app: HumansApplication, relay: Relay
) -> None:
    live_a_life(app, 2, "early")  # read from the log
    with feed.follow(0) as masking, feed.follow(0, personal=True) as personal:
        early = collect(masking, lambda got: len(got) == 6, timeout=10)
        early_personal = collect(personal, lambda got: len(got) == 6, timeout=10)
        go_live(masking)
        go_live(personal)
        live_a_life(app, 2, "late")  # read from Redis, where the relay may have masked them
        late = collect(masking, lambda got: len(got) == 6, timeout=10)
        late_personal = collect(personal, lambda got: len(got) == 6, timeout=10)

    log = full_log(app)
    assert early + late == masked(log)
    assert early[0].payload["name"] == MASKED
    assert early_personal + late_personal == log
    assert late_personal[0].payload["name"] == "Human late"
    assert personal.from_redis >= 6


def test_unknown_names_are_refused_before_anything_is_read(feed: Feed) -> None:
    with pytest.raises(UnknownEventNameError, match="HUMAN_DANCED"):
        feed.follow(0, ["HUMAN_JOINED", "HUMAN_DANCED"])


def test_stop_ends_the_iteration_from_another_thread(feed: Feed, relay: Relay) -> None:
    follower = feed.follow(0, block_seconds=0.2)
    threading.Timer(0.5, follower.stop).start()
    started = time.monotonic()
    seen = list(follower)
    assert seen == []
    assert time.monotonic() - started < 3


def test_follow_builds_and_closes_its_own_feed(
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
    app: HumansApplication,
    projector: SqlReadProjector,
) -> None:
    live_a_life(app, 2, "own")
    wait_projected(projector, full_log(app)[-1].position)
    with follow(
        0, database_url=database_url, redis_url=redis_server_url, prefix=redis_prefix
    ) as events:
        got = collect(events, lambda got: len(got) == 6, timeout=10)
    assert got == masked(full_log(app))


def test_over_http_it_reads_the_api_then_redis(
    database_url: str,
    app: HumansApplication,
    redis_client: redis.Redis,
    redis_prefix: str,
    relay: Relay,
) -> None:
    api_keys = ApiKeyStore(database_url)
    token = api_keys.create("follower", [Scope.READ])
    write_lives(app, 2, 3)
    with api_keys, TestClient(create_app(app, api_keys)) as client:
        feed = Feed(HttpLog("http://testserver", token, client=client), redis_client, redis_prefix)
        with feed.follow(0, page_size=4) as follower:
            first = collect(follower, lambda got: len(got) == 14, timeout=10)
            live_a_life(app, 1, "late")
            later = collect(follower, lambda got: len(got) == 5, timeout=10)
        assert first + later == masked(full_log(app))  # the token has no personal scope
        assert follower.from_log >= 14

        refused = HttpLog("http://testserver", "hot_not-a-token", client=client)
        with pytest.raises(AccessDeniedError):
            refused.read(0, 10)
