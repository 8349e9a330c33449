"""The plain, frozen values that the application's use cases return: never aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

from hot_follow.events import RecordedEvent as RecordedEvent  # the read contract's


@dataclass(frozen=True)
class CommandResult:
    """What a command did: the human it changed, its new version, the log position;
    ``already_recorded`` when the request was answered before and recorded nothing now."""

    id: UUID
    version: int
    position: int
    already_recorded: bool = field(default=False, compare=False)  # the same answer either way


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
    external_ids: dict[str, str]  # scheme -> value
    registered_at: datetime
    modified_at: datetime


@dataclass(frozen=True)
class LogPage:
    """A page of the global log; ``next`` is the ``after`` of the next page, or None at the end."""

    events: tuple[RecordedEvent, ...]
    next: int | None


@dataclass(frozen=True)
class EventTypeInfo:
    """One entry of the event catalog: a name at one version. A team's type has its
    ``owner`` and ``compatibility`` mode, and a version may be ``deprecated``."""

    name: str
    version: int
    description: str
    schema: dict[str, Any]
    owner: str = "hot"
    compatibility: str | None = None
    deprecated: bool = False
