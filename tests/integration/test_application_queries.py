"""Queries on a real PostgreSQL: a human's state now, at a version, as of an instant, its history.

The tests share one database: each reads only the humans it registered itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from uuid import UUID, uuid4

import pytest

from hot.application import HumansApplication, MembershipView
from hot.domain import (
    HumanKind,
    HumanNotFoundError,
    InvalidQueryError,
    VersionNotFoundError,
)
from tests.blocking import blocking_application, opened_application
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

JAN_5 = date(2026, 1, 5)


@pytest.fixture(scope="module")
def app(module_database_url: str) -> Iterator[HumansApplication]:
    """One application on one fresh database, for the whole module."""
    with opened_application(module_database_url) as application:
        yield application


def _life(app: HumansApplication) -> UUID:
    """A human with five events: registered, joined, attended, left, details changed."""
    human_id = app.register("Ann", f"ann.{uuid4().hex[:8]}@example.org", HumanKind.INTERN).id
    app.join(human_id, JAN_5, "intern")
    app.attend(human_id, date(2026, 1, 6))
    app.leave(human_id, date(2026, 1, 9), "internship over")
    app.change_details(human_id, name="Ann Example")
    return human_id


# save and load -----------------------------------------------------------------------------


def test_a_saved_human_loads_with_all_its_state(app: HumansApplication) -> None:
    email = f"ann.{uuid4().hex[:8]}@example.org"
    before = datetime.now(UTC)
    human_id = app.register("Ann", email, HumanKind.VISITOR).id
    app.join(human_id, JAN_5, "guest")
    app.attend(human_id, date(2026, 1, 8))
    app.attend(human_id, date(2026, 1, 6))

    human = app.get_human(human_id)

    assert (human.id, human.version, human.name, human.email) == (human_id, 4, "Ann", email)
    assert (human.kind, human.status) == ("visitor", "member")
    assert human.memberships == (MembershipView(JAN_5, None, "guest"),)
    assert human.attended_days == (date(2026, 1, 6), date(2026, 1, 8))
    assert before <= human.registered_at < human.modified_at <= datetime.now(UTC)


def test_another_application_on_the_same_database_loads_the_same_human(
    app: HumansApplication, module_database_url: str
) -> None:
    human_id = _life(app)

    other = blocking_application(module_database_url)
    try:
        assert other.get_human(human_id) == app.get_human(human_id)
    finally:
        other.close()


# history -----------------------------------------------------------------------------------


def test_history_lists_the_events_in_order_with_sequence_position_and_payload(
    app: HumansApplication,
) -> None:
    event_id = uuid4()
    human_id = _life(app)
    app.attend(human_id, date(2026, 1, 7), event_id=event_id)

    history = app.history(human_id)

    assert [e.name for e in history] == [
        "HUMAN_REGISTERED",
        "HUMAN_JOINED",
        "HUMAN_ATTENDED",
        "HUMAN_LEFT",
        "HUMAN_DETAILS_CHANGED",
        "HUMAN_ATTENDED",
    ]
    assert [e.sequence for e in history] == [1, 2, 3, 4, 5, 6]
    assert all(e.subject == human_id and e.version == 1 for e in history)
    positions = [e.position for e in history]
    assert positions == sorted(set(positions))
    assert [e.time for e in history] == sorted(e.time for e in history)
    assert history[-1].id == event_id
    assert history[-1].position == app.head()
    assert [e.payload for e in history[1:]] == [
        {"on": "2026-01-05", "role": "intern"},
        {"on": "2026-01-06"},
        {"on": "2026-01-09", "reason": "internship over"},
        {"name": "Ann Example", "email": None},
        {"on": "2026-01-07"},
    ]


def test_history_positions_are_the_log_positions(app: HumansApplication) -> None:
    human_id = _life(app)

    in_log = [e for e in app.read_log(limit=10_000).events if e.subject == human_id]

    assert app.history(human_id) == in_log


@pytest.mark.parametrize(("after", "limit"), [(0, 2), (2, 2), (4, 2), (1, 10), (5, 3), (9, 1)])
def test_history_pages_with_after_and_limit(app: HumansApplication, after: int, limit: int) -> None:
    human_id = _life(app)

    page = app.history(human_id, after=after, limit=limit)

    assert [e.sequence for e in page] == list(range(after + 1, min(after + limit, 5) + 1))


def test_the_history_of_an_unknown_human_is_not_found(app: HumansApplication) -> None:
    unknown = uuid4()

    with pytest.raises(HumanNotFoundError) as raised:
        app.history(unknown)

    assert raised.value.human_id == unknown


@pytest.mark.parametrize(("after", "limit"), [(-1, 10), (0, 0), (0, -5), (0, 10_001)])
def test_history_refuses_a_page_out_of_range(
    app: HumansApplication, after: int, limit: int
) -> None:
    human_id = _life(app)

    with pytest.raises(InvalidQueryError):
        app.history(human_id, after=after, limit=limit)


# state at a version ------------------------------------------------------------------------


def test_a_human_reads_at_each_of_its_versions(app: HumansApplication) -> None:
    human_id = _life(app)

    states = [app.get_human(human_id, version=v) for v in range(1, 6)]

    assert [s.version for s in states] == [1, 2, 3, 4, 5]
    assert [s.status for s in states] == ["registered", "member", "member", "former", "former"]
    assert [len(s.attended_days) for s in states] == [0, 0, 1, 1, 1]
    assert [s.name for s in states] == ["Ann"] * 4 + ["Ann Example"]
    assert states[-1] == app.get_human(human_id)


def test_a_version_beyond_the_last_is_not_found(app: HumansApplication) -> None:
    human_id = _life(app)

    with pytest.raises(VersionNotFoundError) as raised:
        app.get_human(human_id, version=6)

    assert (raised.value.human_id, raised.value.version) == (human_id, 6)
    assert isinstance(raised.value, HumanNotFoundError)


def test_version_zero_is_not_a_version(app: HumansApplication) -> None:
    human_id = _life(app)

    with pytest.raises((InvalidQueryError, VersionNotFoundError)):
        app.get_human(human_id, version=0)


def test_an_unknown_human_at_a_version_is_not_found(app: HumansApplication) -> None:
    with pytest.raises(HumanNotFoundError):
        app.get_human(uuid4(), version=1)


# time travel -------------------------------------------------------------------------------


def test_a_human_as_of_an_instant_has_the_events_recorded_until_then(
    app: HumansApplication,
) -> None:
    human_id = _life(app)
    times = [e.time for e in app.history(human_id)]
    tick = timedelta(microseconds=1)

    as_of = [app.get_human_as_of(human_id, t) for t in times]
    just_before = [app.get_human_as_of(human_id, t - tick) for t in times[1:]]

    assert [s.version for s in as_of] == [1, 2, 3, 4, 5]
    assert [s.version for s in just_before] == [1, 2, 3, 4]
    assert as_of[3] == app.get_human(human_id, version=4)
    assert app.get_human_as_of(human_id, datetime.now(UTC)) == app.get_human(human_id)


def test_an_instant_in_another_time_zone_is_the_same_instant(app: HumansApplication) -> None:
    human_id = _life(app)
    joined_at = app.history(human_id)[1].time
    paris = timezone(timedelta(hours=1))

    assert app.get_human_as_of(human_id, joined_at.astimezone(paris)).version == 2


def test_a_human_as_of_before_registration_is_not_found(app: HumansApplication) -> None:
    human_id = _life(app)
    registered_at = app.history(human_id)[0].time

    with pytest.raises(HumanNotFoundError):
        app.get_human_as_of(human_id, registered_at - timedelta(microseconds=1))


def test_an_unknown_human_as_of_now_is_not_found(app: HumansApplication) -> None:
    with pytest.raises(HumanNotFoundError):
        app.get_human_as_of(uuid4(), datetime.now(UTC))


# many events: snapshots --------------------------------------------------------------------


def test_a_long_history_reads_the_same_through_snapshots_and_from_another_application(
    app: HumansApplication, module_database_url: str
) -> None:
    human_id = app.register("Ann", f"ann.{uuid4().hex[:8]}@example.org", HumanKind.EMPLOYEE).id
    first_day = app.today() - timedelta(days=200)
    app.join(human_id, first_day, "engineer")
    days = [first_day + timedelta(days=n) for n in range(108)]
    for day in days:
        app.attend(human_id, day)

    assert app.snapshots is not None
    snapshots = app.snapshots
    wait_until(lambda: list(snapshots.get(human_id)) != [], 10, "the snapshot written")
    assert [s.originator_version for s in snapshots.get(human_id)] == [100]
    other = blocking_application(module_database_url)
    try:
        now = other.get_human(human_id)
        at_100 = other.get_human(human_id, version=100)
        at_60 = other.get_human(human_id, version=60)
    finally:
        other.close()

    assert now == app.get_human(human_id)
    assert (now.version, now.attended_days) == (110, tuple(days))
    assert (now.kind, now.memberships) == (
        "employee",
        (MembershipView(first_day, None, "engineer"),),
    )
    assert (at_100.version, at_100.attended_days) == (100, tuple(days[:98]))
    assert (at_60.version, at_60.attended_days) == (60, tuple(days[:58]))
    assert [e.sequence for e in app.history(human_id, after=95, limit=10)] == list(range(96, 106))
