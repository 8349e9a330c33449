"""Another team's follower: a role made by ``hot sql-access create``, reading ``hot_read``.

It catches up from ``hot_read``, then follows the relay's Redis streams, and hands out
exactly what ``GET /events`` shows a token without ``personal``, each event once, in
order; it creates nothing in HoT's database (nor could its role); it refuses
``personal``; and it never passes events that Redis has but ``hot_read`` not yet.
"""

from __future__ import annotations

import time
from datetime import date
from typing import Any
from uuid import uuid4

import psycopg
import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.relay import Relay, StreamKeys, entry_id
from hot.infra.sql_read.projector import SqlReadProjector
from hot_follow import Feed, PersonalFieldsRefusedError
from hot_follow.representation import event_to_dict
from tests.conftest import SqlReader
from tests.event_log import live_a_life, team_life
from tests.integration.relay_fixtures import wait_caught_up
from tests.waiting import wait_until

from .conftest import Collector, collect, full_log, running_projector, wait_projected, writing

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def lives(app: HumansApplication) -> None:
    """Three lives, a team's type and its events, and a human forgotten after a life."""
    tag = uuid4().hex[:8]
    for n in range(3):
        live_a_life(app, 4, f"{tag}-{n}")
    gaal = app.register("Gaal Dornick", f"gaal.{tag}@x.example", HumanKind.EMPLOYEE).id
    app.join(gaal, date(2024, 1, 1), "mathematician")
    team_life(app, gaal, tag)
    app.leave(gaal, date(2024, 6, 1), "to Terminus")
    app.forget(gaal, by="dpo@example.org")


def api_events(client: TestClient[Litestar]) -> list[dict[str, Any]]:
    """Every event ``GET /events`` shows the client, page after page."""
    events: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        body = client.get("/events", params={"after": after, "limit": 500}).json()
        events.extend(body["events"])
        after = body["next"]
    return events


def owned_and_catalog(database_url: str, role: str) -> tuple[int, set[tuple[str, ...]]]:
    """How many objects of the database ``role`` owns, and every schema and relation
    (but the temporary ones of other sessions: the projector stages in one)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        owned = conn.execute(
            "SELECT count(*) FROM pg_shdepend d JOIN pg_roles r ON r.oid = d.refobjid "
            "WHERE r.rolname = %s AND d.deptype = 'o'",
            (role,),
        ).fetchone()
        objects = conn.execute(
            "SELECT 'schema', nspname, '' FROM pg_namespace WHERE nspname NOT LIKE 'pg_temp%' "
            "AND nspname NOT LIKE 'pg_toast_temp%' UNION ALL "
            "SELECT 'relation', n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relpersistence <> 't'"
        ).fetchall()
    assert owned is not None
    return int(owned[0]), {tuple(row) for row in objects}


def may_create(database_url: str, role: str) -> list[str]:
    """Whatever ``role`` may create: in the database (schemas, temporary tables), in any
    schema."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT 'database ' || privilege FROM unnest(ARRAY['CREATE', 'TEMPORARY']) privilege "
            "WHERE has_database_privilege(%s, current_database(), privilege) UNION ALL "
            "SELECT 'schema ' || nspname FROM pg_namespace "
            "WHERE has_schema_privilege(%s, oid, 'CREATE')",
            (role, role),
        ).fetchall()
    return [str(row[0]) for row in rows]


def test_a_reader_catches_up_then_follows_live_seeing_get_events_once_in_order(
    app: HumansApplication,
    sql_reader: SqlReader,
    reader_api: TestClient[Litestar],
    projector: SqlReadProjector,
    relay: Relay,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    lives(app)
    history = full_log(app)
    wait_projected(projector, history[-1].position)

    feed = Feed.connect(sql_reader.url, redis_server_url, prefix=redis_prefix)
    collector = Collector(feed.follow(0, page_size=7))
    collector.start()
    try:
        wait_until(lambda: len(collector.events) >= len(history), 30, "the follower caught up")
        with writing(app, humans=8, days=5, writers=4):  # while it follows Redis
            pass
        last = full_log(app)[-1].position
        wait_until(lambda: collector.follower.position >= last, 30, f"the follower at {last}")
    finally:
        collector.follower.close()
        collector.join(5)
        feed.close()

    got = collector.events
    assert [event_to_dict(e) for e in got] == api_events(reader_api)
    assert len(got) == len(history) + 8 * (5 + 4)
    assert {"HUMAN_FORGOTTEN", "EVENT_TYPE_REGISTERED"} <= {e.name for e in got}
    assert collector.follower.from_log >= len(history)
    assert collector.follower.from_redis > 0, "the follower never read Redis"


def test_a_reader_s_follower_creates_nothing_and_its_role_could_not(
    app: HumansApplication, database_url: str, sql_reader: SqlReader, projector: SqlReadProjector
) -> None:
    lives(app)
    history = full_log(app)
    wait_projected(projector, history[-1].position)
    before = owned_and_catalog(database_url, sql_reader.name)

    feed = Feed.connect(sql_reader.url)  # no Redis: it polls hot_read
    try:
        with feed.follow(0, page_size=5) as follower:
            got = collect(follower, lambda got: len(got) == len(history), 30)
            with psycopg.connect(database_url, autocommit=True) as conn:
                sessions = conn.execute(
                    "SELECT DISTINCT usename FROM pg_stat_activity "
                    "WHERE application_name = 'hot-follower' AND datname = current_database()"
                ).fetchall()
        head = feed.head(["HUMAN_JOINED"])
        rebuilt = [e for page in feed.history(0, page_size=4) for e in page]
    finally:
        feed.close()

    assert got == rebuilt == full_log(app, personal=False)
    assert head == max(e.position for e in history if e.name == "HUMAN_JOINED")
    assert sessions == [(sql_reader.name,)]  # it ran as the reader, nothing else
    assert owned_and_catalog(database_url, sql_reader.name) == before == (0, before[1])
    assert may_create(database_url, sql_reader.name) == []


def test_personal_fields_are_refused_pointing_to_the_api(
    app: HumansApplication, sql_reader: SqlReader
) -> None:
    live_a_life(app, 1, uuid4().hex[:8])
    feed = Feed.connect(sql_reader.url)
    try:
        follower = feed.follow(0, personal=True)
        with pytest.raises(PersonalFieldsRefusedError, match=r"over the API.*'personal' scope"):
            follower.poll(1)
        with pytest.raises(PersonalFieldsRefusedError, match="over the API"):
            next(feed.history(0, personal=True))
    finally:
        feed.close()


def test_it_waits_for_hot_read_to_reach_where_redis_begins(
    app: HumansApplication,
    database_url: str,
    sql_reader: SqlReader,
    relay: Relay,
    redis_client: redis.Redis,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    """Redis begins after the end of ``hot_read`` (its projector is behind, the stream
    trimmed): the follower must not take Redis's entries, skipping what lies between,
    until ``hot_read`` has caught up with where Redis begins."""
    lives(app)
    projected = SqlReadProjector(app, database_url).catch_up()  # then no projector runs
    for n in range(4):
        live_a_life(app, 3, f"later-{uuid4().hex[:8]}-{n}")
    wait_caught_up(redis_client, redis_prefix, app)
    later = [e for e in full_log(app) if e.position > projected]
    begins = later[len(later) // 2].position  # the stream keeps only the second half
    key = StreamKeys(redis_prefix, ()).all
    redis_client.xtrim(key, minid=entry_id(begins), approximate=False)

    feed = Feed.connect(sql_reader.url, redis_server_url, prefix=redis_prefix)
    collector = Collector(feed.follow(0, poll_seconds=0.1))
    collector.start()
    try:
        wait_until(lambda: collector.follower.position >= projected, 30, "hot_read read")
        time.sleep(1)  # time enough to take Redis's entries, were it to
        held = list(collector.events)  # it must stay at the end of hot_read
        assert collector.follower.position == projected
        with running_projector(database_url):  # hot_read catches up: so does the follower
            wait_until(lambda: collector.follower.position >= later[-1].position, 30, "caught up")
            wait_until(lambda: collector.follower.live, 10, "the follower reads Redis")
            for n in range(2):  # and new events come from Redis
                live_a_life(app, 2, f"live-{uuid4().hex[:8]}-{n}")
            last = full_log(app)[-1].position
            wait_until(lambda: collector.follower.position >= last, 30, f"the follower at {last}")
    finally:
        collector.follower.close()
        collector.join(5)
        feed.close()

    expected = full_log(app, personal=False)
    assert held == [e for e in expected if e.position <= projected]
    assert collector.events == expected
    assert collector.follower.from_redis > 0
