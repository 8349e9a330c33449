"""Queries from a real streaming replica (``pg_basebackup -R`` of a PostgreSQL of the
test's own): served by it, read-your-writes held with ``min_position`` even while its
replay is paused, a replica lagging or stopped left out with reads on the primary, and
commands never sent to it. The live feed's catch-up read from it too, meeting Redis
with no gap and no duplicate, paused or stopped."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
import redis
from litestar.testing import TestClient

from hot.api import create_app
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import bootstrap, read_from_replicas
from hot.infra.postgres_log import PostgresLog
from hot.infra.relay import Relay
from hot.infra.replicas import POOL_NAME, Reads
from hot.infra.settings import Settings, StreamRetention
from hot.infra.sql_read.projector import SqlReadProjector
from hot.tuning import READ_YOUR_WRITES_WAIT_SECONDS
from hot_follow import Feed, SqlReadLog
from hot_follow.sse import _messages
from tests.api.conftest import bearer, new_email
from tests.blocking import blocking_application
from tests.event_log import live_a_life
from tests.follow.live_reading import READING, serving, within
from tests.processes import KillablePostgres
from tests.serving import free_port, served
from tests.waiting import wait_until

pytestmark = pytest.mark.slow  # a primary and a replica of its own

PROBE = "hot-test-probe"  # the test's own connections, as pg_stat_activity names them
NAME = "Hober Mallow"


@dataclass
class Replicated:
    primary: KillablePostgres
    replica: KillablePostgres
    humans: Any
    api_keys: ApiKeyStore
    token: str

    def app(self, reads: Reads) -> Any:
        return create_app(self.humans, self.api_keys, replica_status=reads.status)

    def reads(self, max_lag: int = 1000) -> Reads:
        reads = read_from_replicas(self.humans.application, [self.replica.url], max_lag)
        wait_until(lambda: reads.replicas[0].state == "up", 20, "the replica is up")
        return reads

    def on_replica(self, statement: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.replica.url, autocommit=True, application_name=PROBE) as conn:
            return conn.execute(statement).fetchall()

    def replayed(self) -> int:
        return int(self.on_replica("SELECT max(notification_id) FROM hot_events")[0][0] or 0)

    def public_log(self) -> list[int]:
        """Every public event's position, as the primary holds them."""
        with psycopg.connect(self.primary.url, application_name=PROBE) as conn:
            rows = conn.execute(
                "SELECT notification_id FROM hot_events WHERE left(topic, 4) <> 'hot:' "
                "ORDER BY notification_id"
            ).fetchall()
        return [int(row[0]) for row in rows]

    def log_statements(self) -> None:
        """Have the replica's new sessions log every statement they run (set on the
        primary, replayed), to see which reads it served (``pages_served``)."""
        with psycopg.connect(self.primary.url, autocommit=True, application_name=PROBE) as c:
            c.execute("ALTER ROLE postgres SET log_statement = 'all'")
        wait_until(lambda: self.on_replica("SHOW log_statement") == [("all",)], 10, "replayed")

    def replica_log(self) -> str:
        return (self.replica.data_dir / "server.log").read_text(errors="replace")

    def pages_served(self, since: str) -> list[int]:
        """The positions after which the replica read pages of the log, since its log
        was ``since``."""
        text = self.replica_log().removeprefix(since)
        return [int(after) for after in _PAGE.findall(text)]


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[Replicated]:
    with contextlib.ExitStack() as stack:  # everything closed, the servers last
        primary = KillablePostgres(tmp_path / "primary")
        stack.callback(primary.stop)
        primary.start()
        replica = KillablePostgres.replica_of(primary, tmp_path / "replica")
        stack.callback(replica.stop)
        humans = blocking_application(primary.url)  # its tables, streamed to the replica
        stack.callback(humans.close)
        api_keys = stack.enter_context(ApiKeyStore(primary.url, cache_seconds=60))
        token = api_keys.create("ops", ["admin"])
        replica.start()
        yield Replicated(primary, replica, humans, api_keys, token)


# A page of the log in the replica's log (``log_statement``), and where it starts.
_PAGE = re.compile(
    r"execute [^:]*: SELECT notification_id, originator_id[^\n]*"
    r"WHERE notification_id > \$1 (?!AND notification_id <=)[^\n]*\n[^\n]*"
    r"DETAIL:  parameters: \$1 = '(\d+)'"
)


@contextlib.contextmanager
def relaying(
    replicated: Replicated, redis_url: str, prefix: str, keep: int
) -> Iterator[redis.Redis]:
    """A relay on the primary keeping only the last ``keep`` events in Redis (started on
    an empty Redis, it publishes only those); the Redis client, once it has published."""
    client = redis.Redis.from_url(redis_url)
    app = blocking_application(replicated.primary.url, max_batch=1).application
    relay = Relay(
        app, client, replicated.primary.url, prefix=prefix, retention=StreamRetention(keep),
        poll_interval=0.2, backoff=0.2,
    )  # fmt: skip
    relay.start()
    try:
        head = replicated.public_log()[-1]
        wait_until(lambda: client.xrevrange(f"{prefix}:events", count=1), 10, "published")
        assert client.xrevrange(f"{prefix}:events", count=1)[0][0] == f"{head}-0".encode()
        yield client
    finally:
        relay.stop()
        app.close()
        client.close()


def read_stream(
    url: str, count: int, then: Callable[[], object] | None = None, more: int = 0
) -> list[int]:
    """The positions of the first ``count`` events of a live feed from the start; then
    ``then()`` is called, and ``more`` events are read besides."""
    found: list[int] = []
    with httpx.stream("GET", f"{url}/events/stream", params={"after": 0}, timeout=10) as reply:
        assert reply.status_code == 200, reply.read()
        for message in _messages(within(reply.iter_lines(), READING, f"{count} + {more}")):
            if "data" in message:
                found.append(int(message["id"]))
                if len(found) == count and then is not None:
                    then()
            if len(found) == count + more:
                break
    return found


def _positions(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [e["position"] for e in response.json()["events"]]


def test_queries_come_from_the_replica_and_min_position_reads_your_writes(
    replicated: Replicated,
) -> None:
    reads = replicated.reads()
    try:
        with TestClient(replicated.app(reads)) as c:
            c.headers.update(bearer(replicated.token))
            body = {"name": NAME, "email": new_email(), "kind": "employee"}
            registered = c.post("/humans", json=body).json()
            human_id, first = registered["id"], registered["position"]
            wait_until(lambda: replicated.replayed() >= first, 10, "the replica replays it")
            replicated.on_replica("SELECT pg_wal_replay_pause()")

            joined = c.post(f"/humans/{human_id}/join", json={"on": "2020-01-01", "role": "r"})
            assert joined.status_code == 200, joined.text
            written = joined.json()["position"]
            stale = c.get("/events")
            stale_history = c.get(f"/humans/{human_id}/events")
            at_first = c.get("/events", params={"min_position": first})
            asked = time.monotonic()
            mine = c.get("/events", params={"min_position": written})
            waited = time.monotonic() - asked
            my_history = c.get(f"/humans/{human_id}/events", params={"min_position": written})
            ready = c.get("/health/ready")

            replicated.on_replica("SELECT pg_wal_replay_resume()")
            wait_until(lambda: replicated.replayed() >= written, 10, "the replica catches up")
            caught_up = c.get("/events")
            sessions = replicated.on_replica(
                "SELECT application_name FROM pg_stat_activity "
                "WHERE backend_type = 'client backend'"
            )
            names = {row[0] for row in sessions}
    finally:
        reads.close()

    # Without min_position, the paused replica answers: the join is not there yet.
    assert written not in _positions(stale)
    assert [e["name"] for e in stale_history.json()["events"]] == ["HUMAN_REGISTERED"]
    # Personal fields open on a replica's rows too (their keys come from the primary).
    assert stale.json()["events"][-1]["payload"]["name"] == NAME
    # A position the replica holds is read there; one it lacks, from the primary after a wait.
    assert written not in _positions(at_first)
    assert written in _positions(mine)
    assert waited >= READ_YOUR_WRITES_WAIT_SECONDS
    assert [e["name"] for e in my_history.json()["events"]] == ["HUMAN_REGISTERED", "HUMAN_JOINED"]
    assert written in _positions(caught_up)
    # The replica is shown in readiness; commands and everything else went to the primary:
    # no connection of HoT's to the replica but its reads' pool.
    assert ready.status_code == 200
    assert ready.json()["checks"]["replicas"]["info"]["replicas"][0]["state"] == "up"
    assert names == {POOL_NAME, PROBE}


def test_a_lagging_replica_is_left_out_until_it_catches_up(replicated: Replicated) -> None:
    reads = replicated.reads(max_lag=3)
    try:
        with TestClient(replicated.app(reads)) as c:
            c.headers.update(bearer(replicated.token))
            body = {"name": NAME, "email": new_email(), "kind": "employee"}
            human_id = c.post("/humans", json=body).json()["id"]
            assert c.post(f"/humans/{human_id}/join", json={"on": "2020-01-01", "role": "r"})
            replicated.on_replica("SELECT pg_wal_replay_pause()")
            last = 0
            for day in range(2, 8):  # 6 events: more than 3 behind
                answer = c.post(f"/humans/{human_id}/attend", json={"on": f"2020-01-0{day}"})
                last = answer.json()["position"]
            wait_until(lambda: reads.replicas[0].state == "lagging", 10, "it is left out")
            meanwhile = c.get("/events", params={"limit": 1000})
            ready = c.get("/health/ready")
            replicated.on_replica("SELECT pg_wal_replay_resume()")
            wait_until(lambda: reads.replicas[0].state == "up", 10, "it is back")
    finally:
        reads.close()

    assert last in _positions(meanwhile)  # read on the primary, not the stale replica
    assert ready.status_code == 200  # reads go to the primary: still ready
    (shown,) = ready.json()["checks"]["replicas"]["info"]["replicas"]
    assert shown["state"] == "lagging"
    assert shown["lag"] > 3


def test_a_replica_stopped_mid_load_leaves_reads_on_the_primary_without_errors(
    replicated: Replicated,
) -> None:
    reads = replicated.reads()
    statuses: Counter[int] = Counter()
    written: list[int] = []
    stop = threading.Event()

    def read_on(url: str, human_id: str) -> None:
        with httpx.Client(base_url=url, headers=bearer(replicated.token), timeout=30) as c:
            while not stop.is_set():
                for path in ("/events", f"/humans/{human_id}/events"):
                    statuses[c.get(path, params={"limit": 1000}).status_code] += 1

    try:
        with (
            served(replicated.app(reads), free_port()) as url,
            httpx.Client(base_url=url, headers=bearer(replicated.token), timeout=30) as c,
        ):
            body = {"name": NAME, "email": new_email(), "kind": "employee"}
            human_id = c.post("/humans", json=body).json()["id"]
            c.post(f"/humans/{human_id}/join", json={"on": "2000-01-01", "role": "r"})
            readers = [threading.Thread(target=read_on, args=(url, human_id)) for _ in range(4)]
            for reader in readers:
                reader.start()
            for day in range(1, 30):
                answer = c.post(f"/humans/{human_id}/attend", json={"on": f"2001-01-{day:02}"})
                written.append(answer.json()["position"])
                if day == 10:
                    replicated.replica.stop()  # mid-load
            wait_until(lambda: reads.replicas[0].state == "down", 5, "it is left out")
            after_stop = c.get("/events", params={"after": written[-2]})
            ready = c.get("/health/ready")
            stop.set()
            for reader in readers:
                reader.join(30)
            replicated.replica.start()
            wait_until(lambda: reads.replicas[0].state == "up", 15, "it is back once started")
    finally:
        stop.set()
        reads.close()

    assert set(statuses) == {200}, statuses  # no read failed, before, during or after
    assert sum(statuses.values()) > 100
    assert _positions(after_stop) == [written[-1]]  # the primary answers
    assert ready.status_code == 200
    assert ready.json()["checks"]["replicas"]["info"]["replicas"][0]["state"] == "down"


def test_the_sql_read_contract_is_read_from_a_replica(replicated: Replicated) -> None:
    humans = replicated.humans
    registered = humans.register(NAME, new_email(), HumanKind.EMPLOYEE)
    joined = humans.join(registered.id, date(2020, 1, 1), "r")
    SqlReadProjector(humans.application, replicated.primary.url).catch_up()  # on the primary
    with psycopg.connect(replicated.primary.url, application_name=PROBE) as conn:
        projected = conn.execute("SELECT position FROM hot_read.contract").fetchone()
    wait_until(lambda: replicated.replayed() >= joined.position, 10, "the replica replays it")
    wait_until(
        lambda: replicated.on_replica("SELECT position FROM hot_read.contract")[0] == projected,
        10,
        "the replica replays hot_read",
    )
    log = SqlReadLog(replicated.replica.url)
    try:
        events = log.read(0, 100)
    finally:
        log.close()

    assert [(e.name, e.position) for e in events] == [
        ("HUMAN_REGISTERED", registered.position),
        ("HUMAN_JOINED", joined.position),
    ]
    assert events[0].payload["name"] == "(personal)"  # hot_read holds no personal field


def test_the_replicas_pools_are_in_the_metrics(
    replicated: Replicated, redis_server_url: str, redis_prefix: str
) -> None:
    settings = Settings.from_env(
        {
            "HOT_DATABASE_URL": replicated.primary.url,
            "HOT_DATABASE_READ_URL": replicated.replica.url,
            "HOT_REDIS_URL": redis_server_url,
            "HOT_REDIS_PREFIX": redis_prefix,
        }
    )
    hot = bootstrap(settings)
    try:
        assert hot.replicas is not None
        assert hot.sampler is not None
        assert hot.metrics is not None
        replica = hot.replicas.replicas[0]
        hot.sampler.sample()
        text = hot.metrics.render().decode()
    finally:
        hot.close()
    pool = f"{POOL_NAME}:{replica.name}"
    assert f'hot_postgres_pool_connections{{pool="{pool}",state="idle"}}' in text


def test_the_live_feeds_catch_up_is_read_from_the_replica_and_meets_redis_exactly(
    replicated: Replicated, redis_server_url: str, redis_prefix: str
) -> None:
    humans = replicated.humans
    replicated.log_statements()
    live_a_life(humans, 6, "replayed")  # 10 events the replica has
    held = replicated.public_log()[-1]
    wait_until(lambda: replicated.replayed() >= held, 10, "the replica replays them")
    replicated.on_replica("SELECT pg_wal_replay_pause()")
    live_a_life(humans, 6, "paused")  # 10 on the primary only
    reads = replicated.reads()
    log = PostgresLog(humans.application, reads=reads)
    since = replicated.replica_log()
    try:
        with (
            relaying(replicated, redis_server_url, redis_prefix, keep=3) as client,
            serving(Feed(log, client, redis_prefix), free_port()) as url,
        ):
            # Redis begins after the replica's head: the catch-up must go on past it.
            first = int(client.xrange(f"{redis_prefix}:events", count=1)[0][0].split(b"-")[0])
            received = read_stream(url, 20, then=lambda: live_a_life(humans, 1, "live"), more=5)
            served_pages = replicated.pages_served(since)
            replicated.on_replica("SELECT pg_wal_replay_resume()")
    finally:
        log.close()
        reads.close()

    assert first > held
    assert received == replicated.public_log()  # in order: no gap, no duplicate
    # The catch-up's first page came from the paused replica (it had the first 10),
    # the rest from the primary, which has what Redis lacks, then from Redis.
    assert served_pages[:1] == [0]
    assert all(after <= held for after in served_pages)


def test_the_live_feed_goes_on_from_the_primary_when_the_replica_stops_mid_stream(
    replicated: Replicated, redis_server_url: str, redis_prefix: str
) -> None:
    humans = replicated.humans
    replicated.log_statements()
    for tag in ("a", "b", "c", "d"):
        live_a_life(humans, 6, tag)  # 40 events
    held = replicated.public_log()[-1]
    wait_until(lambda: replicated.replayed() >= held, 10, "the replica replays them")
    reads = replicated.reads()
    log = PostgresLog(humans.application, reads=reads)
    since = replicated.replica_log()
    try:
        with relaying(replicated, redis_server_url, redis_prefix, keep=3) as client:
            feed = Feed(log, client, redis_prefix)
            with feed.follow(0, page_size=4) as follower:
                received = [e.position for _ in range(3) for e in follower.poll(5)]  # 12
                served_pages = replicated.pages_served(since)
                replicated.replica.stop()
                live_a_life(humans, 1, "after")  # 5 more, while the stream goes on
                total = len(replicated.public_log())
                give_up = time.monotonic() + 30
                while len(received) < total and time.monotonic() < give_up:
                    received += [e.position for e in follower.poll(1)]
    finally:
        log.close()
        reads.close()

    # Its first pages came from the replica (one after another, on the same one) ...
    assert served_pages[:3] == [0, received[3], received[7]]
    # ... the rest from the primary once it stopped, and Redis: no gap, no duplicate.
    assert received == replicated.public_log()
    assert reads.replicas[0].state == "down"
