"""Given events / when command / then events or error: the shape of every ``Human`` test.

A *fact* is an event class and its payload. ``given(*facts)`` rebuilds a human from
those events exactly as the repository would (``mutate`` each one), with nothing
pending; ``then_events`` collects what a command recorded, as facts; ``then_rejected``
asserts that a command raised the named error and recorded nothing, not even in
the aggregate's state. The other ``test_human_*`` modules import these helpers; the
tests below check the helpers themselves, and that effective dates are not times.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.utils import get_topic

from hot.domain import DomainError, Human, HumanKind

Fact = tuple[type[Human.Event], dict[str, Any]]

HUMAN_ID = UUID("0b6f3c2e-5d3a-4c1e-9b7a-2f0d8e6a1c55")
RECORDED_FROM = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
_ENVELOPE = {"originator_id", "originator_version", "timestamp", "originator_topic", "event_id"}


def registered(
    name: str = "Ann Example", email: str = "ann@example.org", kind: HumanKind = HumanKind.EMPLOYEE
) -> Fact:
    return Human.Registered, {"name": name, "email": email, "kind": kind}


def joined(on: date, role: str = "engineer") -> Fact:
    return Human.Joined, {"on": on, "role": role}


def left(on: date, reason: str | None = None) -> Fact:
    return Human.Left, {"on": on, "reason": reason}


def attended(on: date) -> Fact:
    return Human.Attended, {"on": on}


def details_changed(name: str | None = None, email: str | None = None) -> Fact:
    return Human.DetailsChanged, {"name": name, "email": email}


def given(*facts: Fact) -> Human:
    """The human that these events, stored in this order, rebuild; nothing pending."""
    human: Any = None
    for version, (event_class, payload) in enumerate(facts, start=1):
        envelope: dict[str, Any] = {
            "originator_id": HUMAN_ID,
            "originator_version": version,
            "timestamp": RECORDED_FROM + timedelta(minutes=version),
            "event_id": uuid4(),
        }
        if version == 1:
            envelope["originator_topic"] = get_topic(Human)
        human = event_class(**envelope, **payload).mutate(human)
    assert isinstance(human, Human)
    return human


def as_fact(event: object) -> Fact:
    """An event's class and payload: what a test states about it."""
    assert isinstance(event, Human.Event)
    fields = dataclasses.fields(event)
    return type(event), {f.name: getattr(event, f.name) for f in fields if f.name not in _ENVELOPE}


def then_events(human: Human) -> list[Fact]:
    """The events the command recorded (collected, so the human has none pending after)."""
    return [as_fact(e) for e in human.collect_events()]


def then_rejected(
    human: Human, error: type[DomainError], command: Callable[[Human], object]
) -> DomainError:
    """Assert ``command`` raises ``error`` and leaves the human exactly as it was."""
    before = copy.deepcopy(vars(human))
    with pytest.raises(error) as raised:
        command(human)
    assert type(raised.value) is error
    assert vars(human) == before
    assert human.pending_events == []
    return raised.value


# Tests of the helpers, and of what every event carries. ---------------------------------


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
