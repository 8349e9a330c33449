"""The plain, frozen values that the application's use cases return: never aggregates."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from uuid import UUID

import msgspec


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


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as every reader sees it: the catalog envelope plus where it sits.

    ``sequence`` is the human's version after the event, ``position`` its place in
    the global log, ``time`` when it was recorded; ``payload`` is JSON-ready.

    A frozen msgspec ``Struct``, not a dataclass: a catch-up makes millions, and a
    Struct is made in C, several times faster (``msgspec.structs.replace`` copies one
    with changes). Nothing it holds refers back to it, so the cyclic collector need
    not track it (``gc=False``).
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
    """One entry of the event catalog: a name at one version. A team's type has its
    ``owner`` and ``compatibility`` mode, and a version may be ``deprecated``."""

    name: str
    version: int
    description: str
    schema: dict[str, Any]
    owner: str = "hot"
    compatibility: str | None = None
    deprecated: bool = False
