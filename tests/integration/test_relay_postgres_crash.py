"""The relay outliving a real PostgreSQL crash: the postmaster is SIGKILLed and started
again on the same data, and the relay goes on by itself, streams equal to the log.

PostgreSQL is killed once the relay has caught up, once while it publishes a backlog,
and once while many commands are committing through the group committer.
"""

from __future__ import annotations

import asyncio
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

import psycopg
import pytest
import redis
from eventsourcing.persistence import InterfaceError, OperationalError

from hot.application import CATALOG, HumansApplication
from hot.application.errors import DeadlineExceededError
from hot.application.idempotency import IdempotencyKey
from hot.application.views import CommandResult, RecordedEvent
from hot.domain import EmailClaim, Human, HumanKind
from hot.infra.bootstrap import write_through
from hot.infra.relay import StreamKeys
from hot.infra.relay.source import EventLog
from tests.blocking import blocking_application, run
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    retried,
    running_relay,
    wait_caught_up,
    write_humans,
)
from tests.processes import KillablePostgres
from tests.waiting import wait_until

pytestmark = [pytest.mark.redis, pytest.mark.slow]


def test_the_relay_goes_on_by_itself_after_postgresql_crashes_and_restarts(
    killable_postgres: KillablePostgres, redis_server_url: str, redis_prefix: str
) -> None:
    app: HumansApplication = blocking_application(killable_postgres.url)
    client = redis.Redis.from_url(redis_server_url)
    try:
        with running_relay(app, client, killable_postgres.url, redis_prefix) as relay:
            write_humans(app, 20, joining=5)
            wait_caught_up(client, redis_prefix, app)

            killable_postgres.kill()
            time.sleep(1.0)  # the relay finds its connections dead meanwhile
            killable_postgres.start()
            retried(lambda: write_humans(app, 20, joining=5))
            wait_caught_up(client, redis_prefix, app, timeout=60)
            wait_until(lambda: relay.status().state == "active", 30, "the relay is active")

            retried(lambda: write_humans(app, 20, joining=5))
            wait_caught_up(client, redis_prefix, app, timeout=30)
        assert_streams_match_log(client, redis_prefix, app)
    finally:
        app.close()


BACKLOG_SAVES = 10  # of 1,000 registrations and 1,000 joins each
BACKLOG = BACKLOG_SAVES * 2000  # public events (and 10,000 email claims, internal)
CRASHES = 2


def test_postgresql_killed_while_the_relay_publishes_a_backlog(
    killable_postgres: KillablePostgres, redis_server_url: str, redis_prefix: str
) -> None:
    app: HumansApplication = blocking_application(killable_postgres.url)
    client = redis.Redis.from_url(redis_server_url)
    all_events = StreamKeys(redis_prefix, CATALOG.names).all
    interrupted_at = [0]  # where the relay stood at each crash
    try:
        for i in range(BACKLOG_SAVES):
            write_humans(app, 1000, joining=1000, tag=f"backlog{i}")
        head = EventLog(app).head()

        with running_relay(app, client, killable_postgres.url, redis_prefix) as relay:
            for _ in range(CRASHES):
                published = client.xlen(all_events)
                wait_until(
                    lambda: published < client.xlen(all_events) < BACKLOG,  # noqa: B023
                    30,
                    "the relay publishes the backlog",
                )
                killable_postgres.kill()
                wait_until(lambda: relay.status().state == "retrying", 20, "the relay sees it")
                interrupted_at.append(relay.status().published)
                time.sleep(1.0)  # the relay fails to reconnect meanwhile
                killable_postgres.start()
                wait_until(lambda: relay.status().state == "active", 30, "the relay is active")

            wait_caught_up(client, redis_prefix, app, timeout=30)
            retried(lambda: write_humans(app, 50, joining=50, tag="after"))
            wait_caught_up(client, redis_prefix, app, timeout=30)
        log = assert_streams_match_log(client, redis_prefix, app)
    finally:
        client.close()
        app.close()

    assert interrupted_at == sorted(set(interrupted_at)), "the relay went on between crashes"
    assert interrupted_at[-1] < head, "PostgreSQL died while the backlog was published"
    assert len(log) == BACKLOG + 100


WRITERS = 100  # each attends day after day for a human of its own; half with keys
JOINED_ON = date(2000, 1, 3)
OUTAGE = 3.0  # seconds: longer than the commands' deadline (2 s), so those in flight fail
UNAVAILABLE = (DeadlineExceededError, OperationalError, InterfaceError, psycopg.OperationalError)


@dataclass
class Writes:
    """What the writers were told: the answers, and the requests that failed (which may
    have committed all the same)."""

    acked: dict[tuple[UUID, date], CommandResult] = field(default_factory=dict)
    failed: set[tuple[UUID, date]] = field(default_factory=set)


def _members(app: HumansApplication, count: int) -> list[UUID]:
    """``count`` humans who joined on ``JOINED_ON``, saved in one transaction."""
    humans = [
        Human.register(f"Writer {i}", f"writer-{i}@example.org", HumanKind.EMPLOYEE)
        for i in range(count)
    ]
    for human in humans:
        human.join(JOINED_ON, "writer")
    app.save(*humans, *(EmailClaim.claim(h.email, h.id, app.claim_secret) for h in humans))
    return [h.id for h in humans]


async def _attend_day_after_day(
    app: HumansApplication, human: UUID, keyed: bool, stop: threading.Event, writes: Writes
) -> None:
    """Attend on one day after the other until ``stop``. A request that fails because the
    database is unavailable is given up (without a key), or retried with its
    ``Idempotency-Key`` until answered (with one); any other error ends the test."""
    day = JOINED_ON
    while not stop.is_set():
        day += timedelta(days=1)
        key = IdempotencyKey(f"{human}/{day}", "attend") if keyed else None
        give_up = time.monotonic() + 60
        while True:
            try:
                writes.acked[human, day] = await app.attend(human, day, idempotency=key)
                break
            except UNAVAILABLE:
                writes.failed.add((human, day))
                if key is None:
                    break
                assert time.monotonic() < give_up, f"{key} not answered within 60 s"
                await asyncio.sleep(0.1)


async def _write_concurrently(
    app: HumansApplication,
    humans: list[UUID],
    keyed: set[UUID],
    stop: threading.Event,
    writes: Writes,
) -> None:
    """One writer per human, on one event loop, all committing through its committer."""
    async with asyncio.TaskGroup() as writers:
        for human in humans:
            writers.create_task(_attend_day_after_day(app, human, human in keyed, stop, writes))


def _attended(log: list[RecordedEvent]) -> dict[tuple[UUID, date], list[RecordedEvent]]:
    """The log's attendances by human and day."""
    attended: dict[tuple[UUID, date], list[RecordedEvent]] = {}
    for event in log:
        if event.name == Human.Attended.TOPIC:
            day = date.fromisoformat(event.payload["on"])
            attended.setdefault((event.subject, day), []).append(event)
    return attended


def test_postgresql_killed_while_group_committed_writes_are_in_flight(
    killable_postgres: KillablePostgres, redis_server_url: str, redis_prefix: str
) -> None:
    app: HumansApplication = blocking_application(killable_postgres.url, deadline=2)
    client = redis.Redis.from_url(redis_server_url)
    stop_writing_through = write_through(app, redis_server_url, prefix=redis_prefix, personal=False)
    humans = _members(app, WRITERS)
    keyed = set(humans[::2])
    stop, writes = threading.Event(), Writes()
    try:
        with (
            running_relay(app, client, killable_postgres.url, redis_prefix) as relay,
            ThreadPoolExecutor(1) as runner,
        ):
            writing = runner.submit(run, _write_concurrently(app, humans, keyed, stop, writes))
            wait_until(lambda: len(writes.acked) >= 2000, 30, "the writers are under way")
            killable_postgres.kill()
            time.sleep(OUTAGE)
            killable_postgres.start()
            recovered = len(writes.acked)
            wait_until(lambda: len(writes.acked) >= recovered + 2000, 45, "the writers go on")
            stop.set()
            writing.result(timeout=70)

            wait_caught_up(client, redis_prefix, app, timeout=30)
            assert relay.status().state == "active"
        log = assert_streams_match_log(client, redis_prefix, app)
    finally:
        stop.set()
        stop_writing_through()
        client.close()
        app.close()

    assert writes.failed, "no write was in flight when PostgreSQL died"
    attended, at = _attended(log), {e.position: e for e in log}
    for (human, day), result in writes.acked.items():  # every answer is in the log
        event = at.get(result.position)
        assert event is not None, f"acknowledged {result} is not in the log"
        assert (event.subject, event.sequence) == (human, result.version)
        assert attended[human, day] == [event]
    assert all(len(events) == 1 for events in attended.values()), "a day recorded twice"
    assert attended.keys() <= writes.acked.keys() | writes.failed, "recorded what none asked"
    # A request retried with its key until answered is there, once.
    assert {w for w in attended if w[0] in keyed} == {w for w in writes.acked if w[0] in keyed}
