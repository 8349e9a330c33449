"""A team's event read back through every reader: the human's history, the log, both
streams (all events, and its name's), the live feed (SSE) and a follower; and a
forgetting that leaves none of its personal values in PostgreSQL or Redis."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import pytest
import redis

from hot.application import Envelope, HumansApplication, RecordedEvent
from hot.domain import FORGOTTEN, HumanKind
from hot.infra.relay import Relay, StreamKeys
from hot_follow import Feed
from hot_follow.latest import CATALOG_CHANGES, LatestVersions
from hot_follow.representation import MASKED
from tests.integration.relay_fixtures import assert_streams_match_log, stream, wait_caught_up
from tests.plaintext import plaintext_anywhere, plaintext_in_redis
from tests.serving import free_port
from tests.standup import (
    STANDUP_V1,
    STANDUP_V1_PAYLOAD,
    STANDUP_V1_TO_V2,
    STANDUP_V2,
    STANDUP_V2_PAYLOAD,
)

from .conftest import collect
from .live_reading import events_of, read_messages, serving

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

STANDUP = "RECEIVED_STANDUP_UPDATE"


def standups(app: HumansApplication, ecode: str) -> tuple[Any, list[int]]:
    """A standup type at versions 1 and 2, a human, and three standups of theirs."""
    if not [t for t in app.event_types() if t.name == STANDUP]:
        app.register_event_type(STANDUP, "A daily standup update.", "standup-team")
        app.add_event_type_version(STANDUP, STANDUP_V1)
        app.add_event_type_version(STANDUP, STANDUP_V2, STANDUP_V1_TO_V2)
    human = app.register(f"Gaal {ecode}", f"gaal-{ecode}@example.org", HumanKind.EMPLOYEE)
    app.join(human.id, date(2026, 1, 5), "mathematician")
    positions = []
    for day in ("2026-03-02", "2026-03-03", "2026-03-04"):
        payload = {**STANDUP_V2_PAYLOAD, "ecode": ecode, "date": day, "human_id": str(human.id)}
        envelope = Envelope(uuid.uuid4(), STANDUP, 2, payload)
        positions.append(app.record(envelope).position)
    return human, positions


def ours(events: list[RecordedEvent]) -> list[RecordedEvent]:
    return [e for e in events if e.name == STANDUP]


def test_a_team_event_reads_the_same_through_every_reader(
    app: HumansApplication,
    feed: Feed,
    relay: Relay,
    redis_client: redis.Redis,
    redis_prefix: str,
) -> None:
    human, positions = standups(app, "E-READERS-1")
    wait_caught_up(redis_client, redis_prefix, app)

    history = ours(app.history(human.id, personal=False))
    log = ours(list(app.read_log(limit=1000, personal=False).events))
    keys = StreamKeys(redis_prefix, ())
    in_all = ours([e for _, e in stream(redis_client, keys.all)])
    in_name = [e for _, e in stream(redis_client, keys.of(STANDUP))]
    everything = len(app.read_log(limit=1000).events)
    with serving(feed, free_port()) as url:
        live = ours(events_of(read_messages(url, everything, after=0)))
    with feed.follow(0, [STANDUP]) as follower:
        followed = collect(follower, lambda got: len(got) >= 3, 30)

    assert [e.position for e in history] == positions
    assert history[0].payload == {**STANDUP_V2_PAYLOAD, "ecode": MASKED, "date": "2026-03-02"}
    for reader in (log, in_all, in_name, live, followed):
        assert reader == history
    assert_streams_match_log(redis_client, redis_prefix, app)


def test_forgetting_leaves_no_personal_value_of_team_events_anywhere(
    app: HumansApplication,
    relay: Relay,
    redis_client: redis.Redis,
    redis_prefix: str,
    database_url: str,
) -> None:
    secret = f"E-SECRET-{uuid.uuid4().hex[:8]}"
    human, _ = standups(app, secret)
    wait_caught_up(redis_client, redis_prefix, app)
    assert plaintext_anywhere(database_url, secret) == []  # sealed from the start

    app.forget(human.id, by="dpo@example.org")
    wait_caught_up(redis_client, redis_prefix, app)

    assert plaintext_anywhere(database_url, secret) == []
    assert plaintext_in_redis(redis_client, secret) == []
    forgotten = ours(app.history(human.id))
    assert {e.payload["ecode"] for e in forgotten} == {FORGOTTEN}
    assert {e.payload["project"] for e in forgotten} == {STANDUP_V2_PAYLOAD["project"]}
    keys = StreamKeys(redis_prefix, ())
    assert stream(redis_client, keys.of(STANDUP)) == []  # erased with the human's entries
    assert_streams_match_log(redis_client, redis_prefix, app)


def test_a_follower_reads_older_team_events_at_the_latest_version_when_asked(
    app: HumansApplication, feed: Feed, relay: Relay, redis_client: redis.Redis, redis_prefix: str
) -> None:
    human, _ = standups(app, "E-LATEST-1")
    v1 = {**STANDUP_V1_PAYLOAD, "human_id": str(human.id)}
    app.record(Envelope(uuid.uuid4(), STANDUP, 1, v1))
    wait_caught_up(redis_client, redis_prefix, app)
    latest = LatestVersions()

    with feed.follow(0, [STANDUP, *CATALOG_CHANGES]) as follower:
        got = collect(follower, lambda got: len(ours(got)) >= 4, 30)
    shown = [latest.upcast(latest.learn(e)) for e in got]

    served = ours(app.as_latest(ours(list(app.read_log(limit=1000, personal=False).events))))
    assert ours(shown) == served  # as GET /events?as_version=latest shows them
    assert [e.version for e in ours(shown)] == [2, 2, 2, 2]
    assert ours(shown)[-1].payload["issues"] == []  # v1's default, by its upcast
    assert [e.version for e in ours(got)] == [2, 2, 2, 1]  # as posted, unless asked
