"""The plain, frozen values that the application's use cases return: never aggregates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID


@dataclass(frozen=True)
class CommandResult:
    """What a command did: the human it changed, its new version, the log position."""

    id: UUID
    version: int
    position: int


@dataclass(frozen=True)
class MembershipView:
    joined_on: date
    left_on: date | None
    role: str


@dataclass(frozen=True)
class HumanView:
    """A human's state, at its latest version or at the version or instant asked for."""

    id: UUID
    version: int
    name: str
    email: str
    kind: str
    status: str
    memberships: tuple[MembershipView, ...]
    attended_days: tuple[date, ...]
    registered_at: datetime
    modified_at: datetime


@dataclass(frozen=True)
class RecordedEvent:
    """An event as every reader sees it: the catalog envelope plus where it sits.

    ``sequence`` is the human's version after the event, ``position`` its place in
    the global log, ``time`` when it was recorded; ``payload`` is JSON-ready.
    """

    id: UUID
    name: str
    version: int
    subject: UUID
    sequence: int
    position: int
    time: datetime
    payload: dict[str, Any]


@dataclass(frozen=True)
class LogPage:
    """A page of the global log; ``next`` is the ``after`` of the next page, or None at the end."""

    events: tuple[RecordedEvent, ...]
    next: int | None


@dataclass(frozen=True)
class EventTypeInfo:
    """One entry of the event catalog."""

    name: str
    version: int
    description: str
    schema: dict[str, Any]
