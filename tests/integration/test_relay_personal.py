"""Personal data in the streams: masked unless HOT_STREAM_PERSONAL, erased on forgetting.

The checks search the raw bytes of every entry of every stream under the test's prefix,
so a personal value anywhere (any field, any stream) is found.
"""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass
from datetime import date
from uuid import UUID

import pytest
import redis

from hot.application import CATALOG, HumansApplication
from hot.domain import HumanKind
from hot.infra.relay import StreamKeys
from hot.infra.relay.publisher import FORGETTING
from hot.infra.relay.source import EventLog
from tests.integration.relay_fixtures import (
    assert_streams_match_log,
    last_position,
    relay_until_caught_up,
    running_relay,
    stream,
    wait_caught_up,
    write_humans,
)
from tests.processes import Processes
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

KILLS = 5


@dataclass(frozen=True)
class Person:
    id: UUID
    secrets: tuple[str, ...]  # every personal value ever recorded for them


def _people(app: HumansApplication, tag: str, count: int) -> list[Person]:
    """Humans with every personal field used: names, emails, a changed name and email,
    a reason for leaving; and events without personal data (join, attend)."""
    people = []
    for i in range(count):
        name, email = f"Name {tag}{i} Zq", f"mail-{tag}{i}@example.org"
        human = app.register(name, email, HumanKind.EMPLOYEE)
        app.join(human.id, date(2026, 1, 5), "engineer")
        app.attend(human.id, date(2026, 1, 6))
        new_name, new_email = f"Renamed {tag}{i} Zq", f"new-{tag}{i}@example.org"
        app.change_details(human.id, name=new_name, email=new_email)
        reason = f"Reason {tag}{i} Zq"
        app.leave(human.id, date(2026, 2, 1), reason)
        people.append(Person(human.id, (name, email, new_name, new_email, reason)))
    return people


def _raw_entries(client: redis.Redis, prefix: str) -> list[tuple[bytes, bytes]]:
    """(stream key, every byte of the entry) for every entry of every stream of ``prefix``."""
    found = []
    for key in client.scan_iter(f"{prefix}:*"):
        if client.type(key) != b"stream":
            continue
        entries: list[tuple[bytes, dict[bytes, bytes]]] = client.xrange(key)  # type: ignore[assignment]
        for _, fields in entries:
            found.append((key, b"\0".join(k + b"=" + v for k, v in fields.items())))
    return found


def _holding(client: redis.Redis, prefix: str, value: str) -> list[bytes]:
    """The streams with an entry that holds ``value`` anywhere."""
    return [key for key, raw in _raw_entries(client, prefix) if value.encode() in raw]


def _subjects(client: redis.Redis, prefix: str) -> dict[str, dict[UUID, list[str]]]:
    """Per stream: each subject's entry names."""
    stream_keys = StreamKeys(prefix, CATALOG.names)
    result: dict[str, dict[UUID, list[str]]] = {}
    for key in stream_keys.every:
        for _, event in stream(client, key):
            result.setdefault(key, {}).setdefault(event.subject, []).append(event.name)
    return result


def test_with_personal_off_no_entry_holds_a_personal_value(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    people = _people(app, "off", 4)
    relay_until_caught_up(app, client, database_url, redis_prefix)

    assert len(_raw_entries(client, redis_prefix)) == 2 * 4 * 5  # all and per-name
    for person in people:
        for value in person.secrets:
            assert _holding(client, redis_prefix, value) == []
    assert _holding(client, redis_prefix, "(personal)") != []
    assert_streams_match_log(client, redis_prefix, app)  # masked, and otherwise the log


def test_with_personal_on_the_entries_hold_the_values(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    people = _people(app, "on", 3)
    relay_until_caught_up(app, client, database_url, redis_prefix, personal=True)

    for person in people:
        for value in person.secrets:
            assert len(_holding(client, redis_prefix, value)) == 2  # all and its name's
    assert _holding(client, redis_prefix, "(personal)") == []
    assert_streams_match_log(client, redis_prefix, app, personal=True)


@pytest.mark.parametrize("personal", [True, False], ids=["personal-on", "personal-off"])
def test_forgetting_erases_the_humans_entries_while_the_relay_runs(
    app: HumansApplication,
    client: redis.Redis,
    database_url: str,
    redis_prefix: str,
    personal: bool,
) -> None:
    people = _people(app, "f", 3)
    stream_keys = StreamKeys(redis_prefix, CATALOG.names)
    with running_relay(app, client, database_url, redis_prefix, personal=personal):
        wait_caught_up(client, redis_prefix, app)
        before = _subjects(client, redis_prefix)
        forgotten, others = people[0], people[1:]
        app.forget(forgotten.id, by="dpo@example.org")
        wait_caught_up(client, redis_prefix, app)
        forgetting = EventLog(app).head()
        stands = last_position(client, stream_keys.all)
        write_humans(app, 5, joining=2)  # the relay goes on from where it stood
        wait_caught_up(client, redis_prefix, app)

    for value in forgotten.secrets:
        assert _holding(client, redis_prefix, value) == []
    after = _subjects(client, redis_prefix)
    assert after[stream_keys.all][forgotten.id] == [FORGETTING]
    assert after[stream_keys.of(FORGETTING)] == {forgotten.id: [FORGETTING]}
    for key in stream_keys.every:
        if key not in (stream_keys.all, stream_keys.of(FORGETTING)):
            assert forgotten.id not in after.get(key, {})
        for other in others:  # other humans' entries untouched
            assert after.get(key, {}).get(other.id) == before.get(key, {}).get(other.id)
    if personal:
        for other in others:
            for value in other.secrets:
                assert len(_holding(client, redis_prefix, value)) == 2
    # XDEL leaves the last ids alone: the relay stood where it had published, and went on.
    assert stands == forgetting
    assert last_position(client, stream_keys.all) == EventLog(app).head() > forgetting
    assert_streams_match_log(client, redis_prefix, app, personal=personal)


def test_a_relay_started_after_the_forgetting_publishes_none_of_the_human(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    people = _people(app, "late", 3)
    app.forget(people[1].id, by="dpo@example.org")  # before anything was published
    relay_until_caught_up(app, client, database_url, redis_prefix, personal=True, batch_size=3)

    for value in people[1].secrets:
        assert _holding(client, redis_prefix, value) == []
    assert_streams_match_log(client, redis_prefix, app, personal=True)


def test_streams_published_again_erase_the_forgotten_human_again(
    app: HumansApplication, client: redis.Redis, database_url: str, redis_prefix: str
) -> None:
    """Redis losing the streams, or one name's stream: what comes back has no forgotten human."""
    people = _people(app, "again", 3)
    stream_keys = StreamKeys(redis_prefix, CATALOG.names)
    with running_relay(app, client, database_url, redis_prefix, personal=True):
        wait_caught_up(client, redis_prefix, app)
        app.forget(people[0].id, by="dpo@example.org")
        wait_caught_up(client, redis_prefix, app)
        client.delete(*stream_keys.every)  # Redis lost the streams: the relay publishes again
        wait_until(lambda: client.exists(stream_keys.all), 10, "the streams come back")
        wait_caught_up(client, redis_prefix, app)
        for value in people[0].secrets:
            assert _holding(client, redis_prefix, value) == []
        assert_streams_match_log(client, redis_prefix, app, personal=True)

    client.delete(
        stream_keys.of("HUMAN_REGISTERED"), stream_keys.of("HUMAN_LEFT")
    )  # repaired on start
    with running_relay(app, client, database_url, redis_prefix, personal=True):
        wait_caught_up(client, redis_prefix, app)
        repaired = (stream_keys.of("HUMAN_REGISTERED"), stream_keys.of("HUMAN_LEFT"))
        wait_until(lambda: client.exists(*repaired) == 2, 10, "the repair")

    for value in people[0].secrets:
        assert _holding(client, redis_prefix, value) == []
    assert_streams_match_log(client, redis_prefix, app, personal=True)


@pytest.mark.slow
def test_relays_killed_while_humans_are_forgotten_leave_none_of_them(
    app: HumansApplication, client: redis.Redis, redis_prefix: str, processes: Processes
) -> None:
    """SIGKILL at random moments: the deletions are in the publish's atomic step, so a
    relay never dies between publishing a forgetting and erasing what it forgets."""
    rng = random.Random()
    relay = processes.relay(HOT_STREAM_PERSONAL="on")
    forgotten: list[Person] = []
    done = threading.Event()

    def load() -> None:
        try:
            for round_ in range(KILLS * 2):
                write_humans(app, 200, joining=50, tag=f"bulk{round_}")  # a backlog
                people = _people(app, f"k{round_}-", 2)
                app.forget(people[0].id, by="dpo@example.org")
                forgotten.append(people[0])
                time.sleep(0.2)
        finally:
            done.set()

    writer = threading.Thread(target=load)
    writer.start()
    kills = 0
    try:
        while kills < KILLS or not done.is_set():
            relay.start().wait_active()
            time.sleep(rng.uniform(0.0, 0.6))
            assert relay.kill() == -9
            kills += 1
        writer.join()
        relay.start().wait_active()
        wait_caught_up(client, redis_prefix, app, timeout=60)
        assert relay.terminate() == 0, relay.output()[-2000:]
    finally:
        done.wait(60)
        writer.join()

    assert len(forgotten) == KILLS * 2
    for person in forgotten:
        for value in person.secrets:
            assert _holding(client, redis_prefix, value) == []
    assert_streams_match_log(client, redis_prefix, app, personal=True)
