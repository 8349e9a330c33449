"""HoT on a real Redis Cluster (``HOT_REDIS_CLUSTER=on``): 3 masters with a replica each.

``hot serve`` takes commands and its relay and write-through publish into the cluster;
readiness, the live feed, a follower of several streams and a consumer group read it;
the streams equal the log. Then a failover under load: the master of the streams' slot
killed, after its replica fell behind, and the relay refills what the cluster lost.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import httpx
import pytest
from click.testing import CliRunner

from hot.application import HumansApplication
from hot.cli import main
from hot.infra.api_keys import ApiKeyStore
from hot.infra.relay import StreamKeys
from hot.infra.relay.source import EventLog
from hot_follow import ConsumerGroup, follow
from hot_follow.redis_client import RedisClient, redis_client
from tests.follow.live_reading import events_of, read_messages
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    public_log,
    wait_caught_up,
)
from tests.processes import HotProcess, Processes
from tests.redis_cluster import RedisClusterServers, cluster_env
from tests.serving import free_port
from tests.waiting import wait_until
from tests.workers import answers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

PREFIX = "{hot-cluster-test}"  # a hash tag: every key in one slot
DAY = (datetime.now(UTC) - timedelta(days=30)).date().isoformat()


class Serving:
    """``hot serve`` on the cluster: its process, base URL and an admin's headers."""

    def __init__(self, process: HotProcess, url: str, token: str) -> None:
        self.process, self.url = process, url
        self.headers = {"Authorization": f"Bearer {token}"}

    def register_member(self, http: httpx.Client) -> list[int]:
        """A human registered and joined, through the API: the two answers' statuses."""
        tag = uuid4().hex[:12]
        body = {"name": f"Human {tag}", "email": f"{tag}@example.org", "kind": "employee"}
        registered = http.post("/humans", json=body)
        if registered.status_code != 201:
            return [registered.status_code]
        human = registered.json()["id"]
        joined = http.post(f"/humans/{human}/join", json={"on": DAY, "role": "engineer"})
        return [201, joined.status_code]

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30)

    def relay_state(self) -> str:
        with self.client() as http:
            return str(http.get("/health/ready").json()["checks"]["relay"]["info"]["state"])


@pytest.fixture
def serving(
    redis_cluster: RedisClusterServers, database_url: str, processes: Processes
) -> Iterator[Serving]:
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create("cluster", ["admin"])
    port = free_port()
    env = cluster_env(redis_cluster, PREFIX)
    process = processes.hot(["serve", "--port", str(port)], **env).start()
    wait_until(lambda: answers(port) or not process.running(), 60, "hot serve answers")
    assert process.running(), process.output()
    serving = Serving(process, f"http://127.0.0.1:{port}", token)
    # Its relay runs in its background process, which starts after the API answers.
    wait_until(lambda: serving.relay_state() == "active", 60, "hot serve's relay active")
    yield serving
    assert process.terminate(30) == 0, process.output()


@pytest.fixture
def cluster_client(redis_cluster: RedisClusterServers) -> Iterator[RedisClient]:
    """The test's own cluster client, given the last node (``redis-cli`` makes the last
    three replicas: the test kills a master, never this one)."""
    client = redis_client(redis_cluster.url(redis_cluster.ports[-1]), cluster=True)
    yield client
    client.close()


def test_hot_serves_publishes_and_is_followed_on_a_redis_cluster(
    serving: Serving,
    redis_cluster: RedisClusterServers,
    cluster_client: RedisClient,
    app: HumansApplication,
    database_url: str,
) -> None:
    with serving.client() as http:
        statuses = [s for _ in range(15) for s in serving.register_member(http)]
        assert set(statuses) == {200, 201}, statuses
        ready = http.get("/health/ready")
    assert ready.status_code == 200, serving.process.output()
    checks = ready.json()["checks"]
    assert checks["redis"]["ok"]
    assert checks["relay"]["info"]["state"] == "active"

    wait_caught_up(cluster_client, PREFIX, app)
    log = assert_streams_match_log(cluster_client, PREFIX, app)
    assert len(log) == 30

    # ``hot relay status`` reads the streams through the cluster too.
    env = {"HOT_DATABASE_URL": database_url, **cluster_env(redis_cluster, PREFIX)}
    shown = CliRunner().invoke(main, ["relay", "status", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    status = json.loads(shown.output)
    every = StreamKeys(PREFIX, ()).all
    assert status["head"] == status["streams"][every] == log[-1].position
    assert status["lag"] == 0
    assert status["lengths"][every] == len(log)

    # The live feed (SSE), from the start: the log, then the cluster's streams.
    messages = read_messages(serving.url, len(log), headers=serving.headers, after=0)
    assert [e.position for e in events_of(messages)] == [e.position for e in log]

    # A follower of two names: XREAD over two streams of the cluster, then more events.
    names = ["HUMAN_REGISTERED", "HUMAN_JOINED"]
    head = EventLog(app).head()
    with follow(
        head,
        names,
        database_url=database_url,
        redis_url=redis_cluster.url(),
        redis_cluster=True,
        prefix=PREFIX,
    ) as follower:
        with serving.client() as http:
            more = [s for _ in range(5) for s in serving.register_member(http)]
        assert set(more) == {200, 201}, more
        new = public_log(app, head)
        got: list[Any] = []
        wait_until(lambda: got.extend(follower.poll(0.2)) or len(got) >= len(new), 30, "followed")
        assert [e.position for e in got] == [e.position for e in new]
        assert follower.from_redis > 0, "the follower never read the cluster"

    # A consumer group on the registrations' stream gets each one once.
    group = ConsumerGroup(
        cluster_client, "mailer", "c1", prefix=PREFIX, name="HUMAN_REGISTERED", block_seconds=0.2
    )
    group.create()
    delivered: list[int] = []
    registered = [e.position for e in public_log(app) if e.name == "HUMAN_REGISTERED"]

    def take() -> bool:
        deliveries = group.read()
        group.ack(*deliveries)
        delivered.extend(d.event.position for d in deliveries)
        return len(delivered) >= len(registered)

    wait_until(take, 30, "the group got every registration")
    assert delivered == registered


def test_after_the_streams_master_fails_the_relay_refills_and_the_streams_equal_the_log(
    serving: Serving,
    redis_cluster: RedisClusterServers,
    cluster_client: RedisClient,
    app: HumansApplication,
) -> None:
    statuses: list[int] = []
    stop = threading.Event()

    def write() -> None:
        with serving.client() as http:
            while not stop.is_set():
                statuses.extend(serving.register_member(http))

    key = StreamKeys(PREFIX, ()).all
    writers = [threading.Thread(target=write) for _ in range(3)]
    for writer in writers:
        writer.start()
    try:
        wait_until(lambda: len(statuses) >= 60, 60, "60 writes")
        master = redis_cluster.master_of(key)
        replica = redis_cluster.replica_of(master)
        # The replica stops copying its master; the master goes on taking what the relay
        # and the write-through publish, which dies with it: the cluster loses it.
        copied = redis_cluster.cut_replication(replica, key)
        cut_at = len(statuses)
        wait_until(lambda: len(statuses) >= cut_at + 40, 60, "40 writes, not copied")
        held = redis_cluster.last_id(master, key)
        redis_cluster.kill(master)
        wait_until(
            lambda: redis_cluster.master_of(key) == replica, 60, "the replica took over the slot"
        )
        redis_cluster.wait_ok()
        taken_over = len(statuses)
        wait_until(lambda: len(statuses) >= taken_over + 60, 60, "60 writes after the failover")
    finally:
        stop.set()
        for writer in writers:
            writer.join(60)

    assert held > copied > 0, "the master held nothing its replica had not copied"
    # Every write was answered: Redis failing never fails a command.
    assert set(statuses) == {200, 201}, sorted(set(statuses))
    wait_caught_up(cluster_client, PREFIX, app, timeout=60)
    log = assert_streams_match_log(cluster_client, PREFIX, app)  # the lost ones are back
    assert len(log) == len(statuses)
    assert any(copied < e.position <= held for e in log)
    with serving.client() as http:
        ready = http.get("/health/ready")
        metrics = http.get("/metrics").text
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"]["relay"]["info"]["state"] == "active"
    assert "Redis lost data; refilling" in serving.process.output()
    assert _sample(metrics, "hot_relay_refills_total") >= 1


def _sample(metrics: str, name: str) -> float:
    """The value of a metric without labels in a Prometheus text exposition."""
    for line in metrics.splitlines():
        if line.startswith(f"{name} "):
            return float(line.split()[1])
    raise AssertionError(f"no {name} in the metrics")
