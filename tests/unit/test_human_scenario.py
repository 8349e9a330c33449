"""The scenario helpers (``tests.unit.steps``) checked themselves, and what every
event carries: effective dates that are not times, an id of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import uuid4

import pytest

from hot.domain import DomainError, Human
from tests.unit.steps import HUMAN_ID, attended, given, joined, registered, then_rejected


def test_given_rebuilds_a_human_at_the_version_of_its_last_event() -> None:
    human = given(registered(), joined(date(2026, 1, 5)), attended(date(2026, 1, 6)))

    assert (human.id, human.version, human.status) == (HUMAN_ID, 3, "member")
    assert human.attended_days == {date(2026, 1, 6)}
    assert human.pending_events == []


def test_then_rejected_fails_when_the_command_is_accepted() -> None:
    human = given(registered())

    with pytest.raises(pytest.fail.Exception):
        then_rejected(human, DomainError, lambda h: h.join(date(2026, 1, 5), "engineer"))


def test_a_backdated_join_carries_the_old_date_but_is_recorded_now() -> None:
    human = given(registered())
    before = datetime.now(UTC)

    human.join(date(2019, 6, 1), "engineer")

    (event,) = human.collect_events()
    assert isinstance(event, Human.Joined)
    assert event.on == date(2019, 6, 1)
    assert before <= event.timestamp <= datetime.now(UTC)
    assert human.modified_on == event.timestamp


def test_every_new_event_has_its_own_id_unless_the_caller_names_one() -> None:
    human = given(registered(), joined(date(2026, 1, 5)))
    chosen = uuid4()

    human.attend(date(2026, 1, 6), today=date(2026, 1, 6), event_id=chosen)
    human.attend(date(2026, 1, 7), today=date(2026, 1, 7))
    human.attend(date(2026, 1, 8), today=date(2026, 1, 8))

    first, second, third = human.collect_events()
    assert isinstance(first, Human.Event)
    assert isinstance(second, Human.Event)
    assert isinstance(third, Human.Event)
    assert first.event_id == chosen
    assert len({first.event_id, second.event_id, third.event_id}) == 3
