"""The global log (``read_log``) on a real PostgreSQL: paging, ``next``, name filters and gaps.

Positions are the table's ``notification_id``: a transaction that rolls back has
used its number, so positions have gaps. The tests make gaps for real (numbers
taken from the sequence, an insert rolled back) and show that paging from ``next``
to ``next`` still yields every public event exactly once, in order, and never an
internal ``hot:`` one.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from uuid import uuid4

import psycopg
import pytest

from hot.application import CATALOG, HumansApplication, RecordedEvent
from hot.domain import HumanKind, InvalidQueryError
from hot.domain.event_types import EventTypeDefinition
from tests.blocking import opened_application
from tests.event_log import team_life

pytestmark = pytest.mark.postgres

NEXT_ID = "SELECT nextval(pg_get_serial_sequence('hot_events', 'notification_id'))"

TAG = "LOG"  # the name of the team type each life registers ends so


@pytest.fixture(scope="module")
def idle_app(module_database_url: str) -> Iterator[HumansApplication]:
    """An application on an empty database of its own, for tests that only read it."""
    with opened_application(module_database_url) as application:
        yield application


def _skip_positions(database_url: str, count: int) -> None:
    """Use up ``count`` positions: one by an insert that rolls back, the rest from the sequence."""
    with psycopg.connect(database_url) as conn:
        with conn.transaction(force_rollback=True):
            conn.execute(
                "INSERT INTO hot_events (originator_id, originator_version, topic, state) "
                "VALUES (%s, 1, 'HUMAN_REGISTERED', '{}')",
                (uuid4(),),
            )
        for _ in range(count - 1):
            conn.execute(NEXT_ID)


def _stored_positions(database_url: str) -> list[int]:
    with psycopg.connect(database_url) as conn:
        rows = conn.execute("SELECT notification_id FROM hot_events ORDER BY 1").fetchall()
    return [row[0] for row in rows]


def _populate(app: HumansApplication, database_url: str) -> list[RecordedEvent]:
    """Three humans' interleaved lives, with gaps; their public events in log order."""
    start = app.today() - timedelta(days=30)
    humans = [app.register(n, f"{n}@example.org", HumanKind.EMPLOYEE).id for n in "abc"]
    for n, human_id in enumerate(humans):
        app.join(human_id, start, "engineer")
        _skip_positions(database_url, n + 1)
    for day in range(3):
        for human_id in humans:
            app.attend(human_id, start + timedelta(days=day))
        _skip_positions(database_url, 3)
    app.change_details(humans[0], email="a.new@example.org")  # claim and release: internal
    app.leave(humans[1], start + timedelta(days=5))
    app.set_external_id(humans[2], "ecode", "E-c")
    team_life(app, humans[2], TAG)
    app.forget(humans[2], by="test")  # releases the email and external-id claims: internal
    events = [e for human_id in humans for e in app.history(human_id)]
    types = [e for t in app.event_types() for e in app.history(EventTypeDefinition.id_for(t.name))]
    return sorted([*events, *types], key=lambda e: e.position)


def _read_all(
    app: HumansApplication, limit: int, names: tuple[str, ...] = ()
) -> list[RecordedEvent]:
    """Every event, page after page from ``next``; checks each page's ``next`` on the way."""
    seen: list[RecordedEvent] = []
    after = 0
    for _ in range(1000):
        page = app.read_log(after=after, limit=limit, names=names)
        assert len(page.events) <= limit
        seen.extend(page.events)
        if page.next is None:
            assert len(page.events) < limit
            return seen
        assert len(page.events) == limit
        assert page.next == page.events[-1].position
        after = page.next
    raise AssertionError("the log never ended")


def test_an_empty_log_has_head_zero_and_an_empty_last_page(idle_app: HumansApplication) -> None:
    page = idle_app.read_log()

    assert (idle_app.head(), page.events, page.next) == (0, (), None)


def test_pages_of_any_size_cover_every_public_event_once_in_order_across_gaps(
    app: HumansApplication, database_url: str
) -> None:
    expected = _populate(app, database_url)

    for limit in (1, 2, 3, 7, len(expected), 100):
        assert _read_all(app, limit) == expected, f"pages of {limit}"

    positions = [e.position for e in expected]
    assert positions == sorted(set(positions))
    stored = set(_stored_positions(database_url))
    assert set(range(1, app.head() + 1)) - stored, "the log should have real gaps"
    # Every built-in name, and a team's
    assert {e.name for e in expected} - set(CATALOG.names) == {f"RECEIVED_STANDUP_UPDATE_{TAG}"}
    assert {e.name for e in expected} >= set(CATALOG.names)


def test_next_is_the_last_position_of_a_full_page_and_none_at_the_end(
    app: HumansApplication, database_url: str
) -> None:
    human_id = app.register("Ann", "ann@example.org", HumanKind.EMPLOYEE).id
    app.join(human_id, date(2026, 1, 5), "engineer")
    _skip_positions(database_url, 2)
    app.attend(human_id, date(2026, 1, 6))
    app.attend(human_id, date(2026, 1, 7))
    p = [e.position for e in app.history(human_id)]

    first, second, third = (app.read_log(after=a, limit=2) for a in (0, p[1], p[3]))
    short = app.read_log(after=0, limit=3)
    rest = app.read_log(after=short.next or 0, limit=3)

    assert ([e.position for e in first.events], first.next) == (p[:2], p[1])
    assert ([e.position for e in second.events], second.next) == (p[2:], p[3])
    assert (third.events, third.next) == ((), None)
    assert (short.next, [e.position for e in rest.events], rest.next) == (p[2], [p[3]], None)


def test_a_page_after_the_head_is_empty(app: HumansApplication) -> None:
    app.register("Ann", "ann@example.org", HumanKind.EMPLOYEE)

    page = app.read_log(after=app.head() + 100)

    assert (page.events, page.next) == ((), None)


def test_a_name_filter_pages_through_only_those_events(
    app: HumansApplication, database_url: str
) -> None:
    everything = _populate(app, database_url)

    for names in (("HUMAN_ATTENDED",), ("HUMAN_JOINED", "HUMAN_LEFT"), ("HUMAN_DETAILS_CHANGED",)):
        expected = [e for e in everything if e.name in names]
        assert expected
        assert _read_all(app, 2, names) == expected, f"names {names}"


def test_internal_events_are_stored_but_never_in_the_log(
    app: HumansApplication, database_url: str
) -> None:
    _populate(app, database_url)
    with psycopg.connect(database_url) as conn:
        internal = conn.execute(
            "SELECT notification_id FROM hot_events WHERE topic LIKE 'hot:%%'"
        ).fetchall()

    seen = _read_all(app, 5)

    assert len(internal) >= 5  # three claims, a claim and a release
    assert {row[0] for row in internal}.isdisjoint(e.position for e in seen)
    assert not [e for e in seen if e.name.startswith("hot:")]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"after": -1}, "after"),
        ({"names": ["HUMAN_FIRED"]}, "name"),
        ({"names": ["hot:EMAIL_CLAIMED"]}, "name"),
    ],
)
def test_a_query_out_of_range_is_refused_by_name(
    idle_app: HumansApplication, query: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidQueryError) as raised:
        idle_app.read_log(**query)  # type: ignore[arg-type]

    assert raised.value.field == field
