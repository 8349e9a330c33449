"""Competing consumers: entries shared by a group, and claimed back from a dead consumer."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

import pytest
import redis

from hot.application import CATALOG, HumansApplication, RecordedEvent
from hot.infra.postgres_log import PostgresLog
from hot.infra.relay import Relay, StreamKeys
from hot_follow import ConsumerGroup
from hot_follow.representation import masked_event
from tests.event_log import live_a_life
from tests.integration.relay_fixtures import wait_caught_up
from tests.processes import KillableProcess, Processes
from tests.waiting import wait_until

from .conftest import full_log, running_relay, write_lives

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

WORKER = Path(__file__).with_name("group_worker.py")


class Survivor(threading.Thread):
    """A consumer of the group in this process, handling entries until stopped."""

    def __init__(self, group: ConsumerGroup) -> None:
        super().__init__()
        self.group = group
        self.handled: list[RecordedEvent] = []

    def run(self) -> None:
        self.group.process(self.handled.append)


@pytest.fixture
def victim(processes: Processes, redis_server_url: str, redis_prefix: str) -> KillableProcess:
    """A consumer of the group "workers" in a process of its own: it takes 10 entries
    and hangs without acknowledging them (``group_worker.py``)."""
    args = [redis_server_url, redis_prefix, "workers", "victim", "10"]
    return processes.command([sys.executable, str(WORKER), *args]).start()


def kill_holding_ten(victim: KillableProcess, client: redis.Redis, key: str, prefix: str) -> None:
    """SIGKILL the victim once it holds its 10 entries pending and has said which ones
    (it pushes their positions onto ``<prefix>:taken:victim`` once it holds all 10)."""
    wait_until(lambda: pending_of(client, key, "victim") == 10, 60, "the victim took 10")
    taken = f"{prefix}:taken:victim"
    wait_until(lambda: client.llen(taken) == 10, 30, "the victim said which 10")
    assert victim.kill() == -9


def pending_of(client: redis.Redis, key: str, consumer: str) -> int:
    try:
        summary = client.xpending(key, "workers")
    except redis.ResponseError:  # no group yet
        return 0
    return sum(c["pending"] for c in summary["consumers"] if c["name"].decode() == consumer)


@pytest.mark.usefixtures("relay")
def test_a_killed_consumers_pending_entries_are_claimed_by_the_survivor(
    app: HumansApplication, redis_client: redis.Redis, redis_prefix: str, victim: KillableProcess
) -> None:
    key = StreamKeys(redis_prefix, CATALOG.names).all
    write_lives(app, 3, 10)  # 42 events
    group = ConsumerGroup(
        redis_client, "workers", "survivor", prefix=redis_prefix, count=5, min_idle_seconds=1.0
    )
    survivor = Survivor(group)
    kill_holding_ten(victim, redis_client, key, redis_prefix)
    survivor.start()
    try:
        live_a_life(app, 2, "after")  # 6 more
        expected = full_log(app)
        wait_until(lambda: len(survivor.handled) >= len(expected), 60, "every entry handled")
    finally:
        survivor.group.stop()
        survivor.join(30)

    # Ended: it acknowledged the last entry it handled (its ack follows the handling).
    assert not survivor.is_alive()
    taken = [int(p) for p in redis_client.lrange(f"{redis_prefix}:taken:victim", 0, -1)]
    handled = [e.position for e in survivor.handled]
    assert len(taken) == 10
    assert set(taken) <= set(handled)
    assert sorted(handled) == [e.position for e in expected]  # each entry once
    assert redis_client.xpending(key, "workers")["pending"] == 0


@pytest.mark.usefixtures("relay")
def test_entries_trimmed_while_pending_are_read_back_from_the_log(
    app: HumansApplication, redis_client: redis.Redis, redis_prefix: str, victim: KillableProcess
) -> None:
    key = StreamKeys(redis_prefix, CATALOG.names).all
    write_lives(app, 2, 10)  # 28 events
    # All published first, so that no entry reaches the stream after the trim (as from a
    # relay lagging on a busy machine) for the group to read beside the 10 it claims.
    wait_caught_up(redis_client, redis_prefix, app, timeout=30)
    kill_holding_ten(victim, redis_client, key, redis_prefix)
    redis_client.xtrim(key, minid="999999-0")  # every entry gone from the stream
    group = ConsumerGroup(
        redis_client,
        "workers",
        "survivor",
        prefix=redis_prefix,
        min_idle_seconds=0.2,
        source=PostgresLog(app),
    )
    wait_until(lambda: pending_of(redis_client, key, "victim") == 10, 1, "still pending")

    recovered: list[RecordedEvent] = []
    wait_until(lambda: recovered.extend(group.read()) or len(recovered) >= 10, 30, "claimed")

    # Read back from the log masked, as the group is not personal (registrations, renames).
    assert [d.event for d in recovered] == [masked_event(e) for e in full_log(app)[:10]]
    assert any(d.event.name == "HUMAN_REGISTERED" for d in recovered)
    assert redis_client.xpending(key, "workers")["pending"] == 0


def _registrations(group: ConsumerGroup) -> list[RecordedEvent]:
    """Every registration the group delivers, acknowledged, until there are two."""
    got: list[RecordedEvent] = []

    def take() -> bool:
        deliveries = group.read()
        group.ack(*deliveries)
        got.extend(d.event for d in deliveries)
        return len(got) >= 2

    wait_until(take, 10, "two registrations delivered")
    return got


@pytest.mark.parametrize("streamed", ["personal", "masked"])
def test_a_group_masks_personal_fields_unless_it_is_personal(
    app: HumansApplication,
    database_url: str,
    redis_client: redis.Redis,
    redis_prefix: str,
    streamed: str,
) -> None:
    """Whatever the streams carry: a group sees names only if personal (from the streams
    that carry them, or else from the log, given a source)."""
    with running_relay(database_url, redis_client, redis_prefix, personal=streamed == "personal"):
        write_lives(app, 2, 1)
        registered = full_log(app, ("HUMAN_REGISTERED",))
        groups = {
            who: ConsumerGroup(
                redis_client,
                who,
                "c1",
                prefix=redis_prefix,
                name="HUMAN_REGISTERED",
                personal=who != "masked",
                source=PostgresLog(app) if who == "personal" else None,
            )
            for who in ("masked", "personal")
        }
        for group in groups.values():
            group.create()
        seen = {who: _registrations(group) for who, group in groups.items()}

    assert len(registered) == 2
    assert all(e.payload["name"].startswith("Human h") for e in registered)  # shown, by the app
    assert seen["masked"] == [masked_event(e) for e in registered]
    assert seen["personal"] == registered


def test_a_consumer_restarted_under_its_name_first_takes_back_its_own_entries(
    app: HumansApplication, relay: Relay, redis_client: redis.Redis, redis_prefix: str
) -> None:
    write_lives(app, 1, 6)  # 10 events
    key = StreamKeys(redis_prefix, CATALOG.names).all
    wait_until(lambda: redis_client.xlen(key) == 10, 10, "published")
    first = ConsumerGroup(redis_client, "workers", "w1", prefix=redis_prefix, count=4)
    first.create()
    taken = first.read()

    again = ConsumerGroup(redis_client, "workers", "w1", prefix=redis_prefix, count=3)
    retaken = again.read() + again.read()
    fresh = again.read()

    assert [d.entry_id for d in retaken] == [d.entry_id for d in taken]
    assert [d.event.position for d in fresh] == [e.position for e in full_log(app)[4:7]]
