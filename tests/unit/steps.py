"""Given events / when command / then events or error: the shape of every ``Human`` test.

A *fact* is an event class and its payload. ``given(*facts)`` rebuilds a human from
those events exactly as the repository would (``mutate`` each one), with nothing
pending; ``then_events`` collects what a command recorded, as facts; ``then_rejected``
asserts that a command raised the named error and recorded nothing, not even in
the aggregate's state. The ``test_human_*`` modules use these helpers;
``test_human_scenario`` checks the helpers themselves.
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


def external_id_set(scheme: str, value: str) -> Fact:
    return Human.ExternalIdSet, {"scheme": scheme, "value": value}


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
