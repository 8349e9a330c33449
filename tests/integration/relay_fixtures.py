"""Helpers for the relay's tests: loads to write, relays to run, and the check that matters.

The check: the all-events stream holds exactly the public log (same ids, same order,
no duplicates) and each per-name stream exactly the log filtered by name, as the relay
publishes it: personal fields masked unless asked for, forgotten humans' events erased.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from datetime import date
from typing import Any
from uuid import UUID

import redis
from eventsourcing.persistence import InterfaceError, OperationalError

from hot.application import CATALOG, HumansApplication
from hot.application.views import RecordedEvent
from hot.domain import EmailClaim, Human, HumanKind
from hot.infra.relay import Relay, StreamKeys, event_from_entry
from hot.infra.relay.publisher import FORGETTING
from hot.infra.relay.source import EventLog
from hot_follow.representation import masked_event
from tests.waiting import wait_until

FAST = {"poll_interval": 0.2, "takeover_interval": 0.2, "backoff": 0.2}


def public_log(
    app: HumansApplication, after: int = 0, *, personal: bool = True
) -> list[RecordedEvent]:
    """Every public event of the log after ``after``, oldest first (personal fields masked
    unless ``personal``: as the log's own decoder masks them, teams' events too)."""
    log, events = EventLog(app, personal=personal), []
    while batch := log.read(after, 5000):
        events.extend(batch)
        after = batch[-1].position
    return events


def stream(client: redis.Redis, key: str) -> list[tuple[str, RecordedEvent]]:
    """Every entry of a stream as (id, event), oldest first."""
    entries: list[tuple[str, RecordedEvent]] = []
    start = "-"
    while chunk := client.xrange(key, min=start, count=5000):
        entries.extend((i.decode(), event_from_entry(f)) for i, f in chunk)
        start = "(" + chunk[-1][0].decode()
    return entries


def streamed(
    events: list[RecordedEvent], *, personal: bool = False, forgotten: set[UUID] | None = None
) -> list[RecordedEvent]:
    """What the streams should hold of ``events``: personal fields masked unless
    ``personal``, and no event of a ``forgotten`` human (default: those forgotten among
    ``events``) but their ``HUMAN_FORGOTTEN``."""
    if forgotten is None:
        forgotten = {e.subject for e in events if e.name == FORGETTING}
    kept = [e for e in events if e.subject not in forgotten or e.name == FORGETTING]
    return kept if personal else [masked_event(e) for e in kept]


def assert_streams_match_log(
    client: redis.Redis,
    prefix: str,
    app: HumansApplication,
    after: int = 0,
    *,
    personal: bool = False,
) -> list[RecordedEvent]:
    """The streams hold exactly the public log after ``after`` as the relay publishes it
    (``streamed``); returns that."""
    forgotten = {e.subject for e in public_log(app) if e.name == FORGETTING}
    read = public_log(app, after, personal=personal)
    log = streamed(read, personal=personal, forgotten=forgotten)
    stream_keys = StreamKeys(prefix, CATALOG.names)
    assert_stream_is(client, stream_keys.all, log)
    for name in dict.fromkeys([*CATALOG.names, *(e.name for e in read)]):  # teams' too
        assert_stream_is(client, stream_keys.of(name), [e for e in log if e.name == name])
    return log


def assert_stream_is(client: redis.Redis, key: str, events: list[RecordedEvent]) -> None:
    entries = stream(client, key)
    ids = [i for i, _ in entries]
    assert len(ids) == len(set(ids)), f"{key} has duplicates"
    assert ids == [f"{e.position}-0" for e in events], f"{key} differs from the log"
    assert [e for _, e in entries] == events, f"{key} entries differ from the log's events"


def last_position(client: redis.Redis, key: str) -> int:
    try:
        info: Any = client.xinfo_stream(key)
    except redis.ResponseError:
        return 0
    return int(info["last-generated-id"].decode().split("-")[0])


def wait_caught_up(
    client: redis.Redis, prefix: str, app: HumansApplication, timeout: float = 15
) -> None:
    """Wait until the all-events stream reaches the newest public event."""
    head = EventLog(app).head()
    key = StreamKeys(prefix, CATALOG.names).all
    wait_until(lambda: last_position(client, key) >= head, timeout, f"{key} reaches {head}")


def retried(write: Callable[[], None], seconds: float = 30) -> None:
    """Write once PostgreSQL takes connections again (it was started just before, so a
    failed attempt wrote nothing)."""
    give_up = time.monotonic() + seconds
    while True:
        try:
            write()
            return
        except (OperationalError, InterfaceError):
            if time.monotonic() > give_up:
                raise
            time.sleep(0.2)


def write_humans(app: HumansApplication, count: int, *, joining: int = 0, tag: str = "") -> None:
    """Register ``count`` humans in one transaction, with their email claims (internal
    events, so the public log has gaps); the first ``joining`` of them also join."""
    tag = tag or str(time.monotonic_ns())
    humans = [
        Human.register(f"Human {tag}-{i}", f"h{tag}-{i}@example.org", HumanKind.EMPLOYEE)
        for i in range(count)
    ]
    for human in humans[:joining]:
        human.join(date(2026, 1, 5), "engineer")
    claims = [EmailClaim.claim(h.email, h.id, app.claim_secret) for h in humans]
    app.save(*humans, *claims)


@contextlib.contextmanager
def running_relay(
    app: HumansApplication, client: redis.Redis, database_url: str, prefix: str, **options: Any
) -> Iterator[Relay]:
    relay = Relay(app, client, database_url, prefix=prefix, **{**FAST, **options})
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()


def relay_until_caught_up(
    app: HumansApplication, client: redis.Redis, database_url: str, prefix: str, **options: Any
) -> None:
    """Run a relay until the streams reach the log's newest public event, then stop it."""
    with running_relay(app, client, database_url, prefix, **options):
        wait_caught_up(client, prefix, app)
