"""Upcasting: events (and a snapshot) stored at version 1 in PostgreSQL read correctly at version 2.

HoT's events are all at version 1 today, so the test brings its own small aggregate,
``Badge``, with explicit topics of its own. A first application stores version-1
events; then the ``upgrade`` fixture puts version-2 classes under the *same* topics
(as a new release of the code would) and a second application on the same database
reads the old events through ``upcast_v1_v2``. Topics are global to the process:
the fixture restores the version-1 classes afterwards.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from typing import Any
from uuid import UUID, uuid4

import psycopg
import pytest
from eventsourcing.application import Application
from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate, Snapshot
from eventsourcing.utils import _topic_cache, _type_cache

from hot.infra.database import eventsourcing_env

pytestmark = pytest.mark.postgres

TOPICS = ("hot-test-upcast:Badge", "hot-test-upcast:BADGE_ISSUED", "hot-test-upcast:BADGE_RENAMED")


class Badge(BaseAggregate[UUID]):
    """Version 1: a badge names its holder in one string."""

    TOPIC = TOPICS[0]
    Snapshot = Snapshot

    def __init__(self) -> None:
        self.holder = ""

    class Event(AggregateEvent):
        pass

    class Issued(Event, AggregateCreated):
        TOPIC = TOPICS[1]
        holder: str

        def apply(self, badge: Badge) -> None:
            badge.holder = self.holder

    class Renamed(Event):
        TOPIC = TOPICS[2]
        holder: str

        def apply(self, badge: Badge) -> None:
            badge.holder = self.holder

    @classmethod
    def issue(cls, holder: str) -> Badge:
        return cls._create(cls.Issued, id=uuid4(), holder=holder)

    def rename(self, holder: str) -> None:
        self.trigger_event(self.Renamed, holder=holder)


def _define_badge_v2() -> Any:
    """Version 2 of ``Badge``: ``holder`` became ``name``, and badges gained a ``level``."""

    class BadgeV2(BaseAggregate[UUID]):
        TOPIC = TOPICS[0]
        Snapshot = Snapshot
        class_version = 2

        def __init__(self) -> None:
            self.name = ""
            self.level = 0

        @staticmethod
        def upcast_v1_v2(state: dict[str, Any]) -> None:
            state["name"] = state.pop("holder")
            state["level"] = 1

        class Event(AggregateEvent):
            pass

        class Issued(Event, AggregateCreated):
            TOPIC = TOPICS[1]
            class_version = 2
            name: str
            level: int

            @staticmethod
            def upcast_v1_v2(state: dict[str, Any]) -> None:
                state["name"] = state.pop("holder")
                state["level"] = 1  # every version-1 badge was a level-1 badge

            def apply(self, badge: Any) -> None:
                badge.name, badge.level = self.name, self.level

        class Renamed(Event):
            TOPIC = TOPICS[2]
            class_version = 2
            name: str

            @staticmethod
            def upcast_v1_v2(state: dict[str, Any]) -> None:
                state["name"] = state.pop("holder")

            def apply(self, badge: Any) -> None:
                badge.name = self.name

        def rename(self, name: str) -> None:
            self.trigger_event(self.Renamed, name=name)

    return BadgeV2


class BadgeApp(Application[UUID]):
    """Stores badges in the ``badges_events`` and ``badges_snapshots`` tables."""

    name = "badges"
    is_snapshotting_enabled = True


Upgrade = Callable[[], Any]


@pytest.fixture
def upgrade() -> Iterator[Upgrade]:
    """A function that puts the version-2 classes under the version-1 topics (as a release
    would) and returns the new aggregate class; afterwards, version 1 is back."""
    version_1: dict[str, Any] = {}

    def to_version_2() -> Any:
        version_1.update({topic: _topic_cache.pop(topic) for topic in TOPICS})
        return _define_badge_v2()

    yield to_version_2
    if version_1:
        for topic in TOPICS:
            stale = _topic_cache.pop(topic, None)
            _type_cache.pop(stale, None)  # type: ignore[arg-type]
        _topic_cache.update(version_1)


@contextlib.contextmanager
def badge_app(database_url: str) -> Iterator[BadgeApp]:
    """The badges application on ``database_url``, closed after the block."""
    app = BadgeApp(env=eventsourcing_env(database_url))
    try:
        yield app
    finally:
        app.close()


def _store_v1(database_url: str, *, snapshot: bool = False) -> UUID:
    with badge_app(database_url) as app:
        badge = Badge.issue("Ann")
        badge.rename("Ann Example")
        app.save(badge)
        if snapshot:
            app.take_snapshot(badge.id)
        return badge.id


@pytest.fixture
def badge_v1(database_url: str) -> UUID:
    """The id of a badge stored by version 1: issued, then renamed."""
    return _store_v1(database_url)


def _stored_states(database_url: str) -> list[dict[str, Any]]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT state FROM badges_events ORDER BY notification_id").fetchall()
    return [json.loads(bytes(row[0])) for row in rows]


def test_version_1_events_in_postgres_read_as_version_2(
    database_url: str, badge_v1: UUID, upgrade: Upgrade
) -> None:
    badge_v2 = upgrade()
    with badge_app(database_url) as app:
        badge: Any = app.repository.get(badge_v1)
        issued, renamed = app.events.get(badge_v1)

    assert type(badge) is badge_v2
    assert (badge.name, badge.level, badge.version) == ("Ann Example", 1, 2)
    assert not hasattr(badge, "holder")
    assert (type(issued).__qualname__, issued.name, issued.level) == (  # type: ignore[attr-defined]
        "_define_badge_v2.<locals>.BadgeV2.Issued",
        "Ann",
        1,
    )
    assert renamed.name == "Ann Example"  # type: ignore[attr-defined]


def test_version_2_events_follow_version_1_events_in_the_same_stream(
    database_url: str, badge_v1: UUID, upgrade: Upgrade
) -> None:
    badge_v2 = upgrade()
    with badge_app(database_url) as app:
        badge: Any = app.repository.get(badge_v1)
        assert type(badge) is badge_v2
        badge.rename("Ann Other")
        app.save(badge)
        reread: Any = app.repository.get(badge_v1)

    assert (reread.name, reread.level, reread.version) == ("Ann Other", 1, 3)
    states = _stored_states(database_url)
    assert ["class_version" in s for s in states] == [False, False, True]
    assert states[0]["holder"] == "Ann"  # stored events are never rewritten
    assert (states[2]["class_version"], states[2]["name"]) == (2, "Ann Other")


def test_a_version_1_snapshot_is_upcast_by_the_aggregate_class(
    database_url: str, upgrade: Upgrade
) -> None:
    badge_id = _store_v1(database_url, snapshot=True)
    badge_v2 = upgrade()
    with badge_app(database_url) as app:
        assert app.snapshots is not None
        (snapshot,) = app.snapshots.get(badge_id)
        from_snapshot: Any = snapshot.mutate(None)  # type: ignore[attr-defined]
        loaded: Any = app.repository.get(badge_id)

    assert "holder" in snapshot.state  # type: ignore[attr-defined]
    assert type(from_snapshot) is badge_v2
    assert (from_snapshot.name, from_snapshot.level, from_snapshot.version) == ("Ann Example", 1, 2)
    assert not hasattr(from_snapshot, "holder")
    assert (loaded.name, loaded.level, loaded.version) == ("Ann Example", 1, 2)


def test_the_version_1_classes_are_back_after_the_fixture(database_url: str) -> None:
    badge_id = _store_v1(database_url)
    with badge_app(database_url) as app:
        badge: Any = app.repository.get(badge_id)

    assert type(badge) is Badge
    assert badge.holder == "Ann Example"
