"""``EventTypeDefinition``: a team's own event type in the open catalog, and its versions.

Teams record facts HoT has no rules for (standup updates, desk bookings...). Each such
type is an aggregate, so its changes are events in the log like any other fact:
registered, a version added, a version deprecated. Its id derives from its name, so two
registrations of one name, or two additions of the same next version, conflict in the
database and exactly one wins. Whether a new schema is compatible is judged by the
caller (pure logic over JSON Schemas); the aggregate refuses what was judged breaking.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar
from uuid import UUID, uuid4, uuid5

from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate, Snapshot

from hot.domain.errors import (
    EventTypeExistsError,
    EventVersionDeprecatedError,
    EventVersionNotFoundError,
    IncompatibleSchemaError,
    InvalidEventTypeError,
    InvalidSchemaError,
    RuleViolationError,
)
from hot_follow.names import MAX_NAME as MAX_NAME  # the name rule: part of the read contract
from hot_follow.names import RESERVED_PREFIXES as RESERVED_PREFIXES
from hot_follow.names import TYPE_NAME as TYPE_NAME

_NAMESPACE = UUID("0b5f3c62-2f57-4a55-9d0a-5f2b1b4f7e21")
MAX_DESCRIPTION = 1000
MAX_OWNER = 100


class Compatibility(StrEnum):
    """Which readers a new version must keep working for (Confluent Schema Registry's modes)."""

    BACKWARD = "BACKWARD"  # a reader at the new version reads old events (after upcasting)
    FORWARD = "FORWARD"  # a reader at the previous version reads new events
    FULL = "FULL"  # both
    NONE = "NONE"  # nothing is checked


@dataclass(frozen=True)
class TypeVersion:
    """One version of a team type: its payload schema, the upcast from the version before,
    and its personal fields (sealed, masked and forgotten like the built-in ones)."""

    number: int
    schema: dict[str, Any]
    upcast: dict[str, Any] | None
    personal_fields: tuple[str, ...]
    deprecated: bool = False


class VersionAlreadyDeprecatedError(RuleViolationError):
    rule = "event-version-already-deprecated"

    def __init__(self, name: str, version: int) -> None:
        super().__init__(f"{name} version {version} is deprecated already.")


class EventTypeDefinition(BaseAggregate[UUID]):
    """A team's event type: its name, description, owner, compatibility mode and versions."""

    TOPIC = "hot:EventTypeDefinition"
    Snapshot = Snapshot

    def __init__(self) -> None:
        self.name = ""
        self.description = ""
        self.owner = ""
        self.compatibility = Compatibility.BACKWARD
        self.versions: list[TypeVersion] = []

    class Event(AggregateEvent):
        """Every catalog event carries its own id, as human events do."""

        PERSONAL_FIELDS: ClassVar[tuple[str, ...]] = ()
        event_id: UUID

    class Registered(Event, AggregateCreated):
        """A team registered an event type of its own, with an owner and a compatibility mode."""

        TOPIC = "EVENT_TYPE_REGISTERED"
        name: str
        description: str
        owner: str
        compatibility: str

        def apply(self, definition: EventTypeDefinition) -> None:
            definition.name = self.name
            definition.description = self.description
            definition.owner = self.owner
            definition.compatibility = Compatibility(self.compatibility)
            definition.versions = []

    class VersionAdded(Event):
        """A new version of a team's event type: its payload schema (JSON Schema 2020-12)
        and the declarative upcast from the version before, if any."""

        TOPIC = "EVENT_TYPE_VERSION_ADDED"
        version: int
        schema: dict[str, Any]
        upcast: dict[str, Any] | None
        personal_fields: list[str]

        def apply(self, definition: EventTypeDefinition) -> None:
            personal = tuple(self.personal_fields)
            added = TypeVersion(self.version, self.schema, self.upcast, personal)
            definition.versions.append(added)

    class VersionDeprecated(Event):
        """A version of a team's event type may no longer be posted; it is still read."""

        TOPIC = "EVENT_TYPE_VERSION_DEPRECATED"
        version: int

        def apply(self, definition: EventTypeDefinition) -> None:
            old = definition.versions[self.version - 1]
            definition.versions[self.version - 1] = TypeVersion(
                old.number, old.schema, old.upcast, old.personal_fields, deprecated=True
            )

    def __deepcopy__(self, memo: dict[int, Any]) -> EventTypeDefinition:
        """A copy whose list of versions is copied (a ``TypeVersion`` is never changed in
        place, its schema neither): cheap, for a type is read by every event posted of it.
        """
        clone = object.__new__(type(self))
        state = dict(self.__dict__)
        state["versions"] = list(self.versions)
        state["_pending_events"] = list(self._pending_events)
        clone.__dict__.update(state)
        return clone

    @staticmethod
    @functools.lru_cache(maxsize=1024)  # uuid5 hashes the name: asked once per command
    def id_for(name: str) -> UUID:
        return uuid5(_NAMESPACE, name)

    @classmethod
    def register(
        cls,
        name: str,
        description: str,
        owner: str,
        compatibility: str = Compatibility.BACKWARD,
        *,
        event_id: UUID | None = None,
    ) -> EventTypeDefinition:
        """A new type. ``EventTypeExistsError`` comes from the store (the id is the name's)."""
        return cls._create(
            cls.Registered,
            id=cls.id_for(checked_type_name(name)),
            event_id=event_id or uuid4(),
            name=name,
            description=_checked_text("description", description, MAX_DESCRIPTION),
            owner=_checked_text("owner", owner, MAX_OWNER),
            compatibility=_checked_mode(compatibility),
        )

    def add_version(
        self,
        schema: dict[str, Any],
        upcast: dict[str, Any] | None,
        personal_fields: Sequence[str],
        breaking: Sequence[tuple[str, str]],
        *,
        event_id: UUID | None = None,
    ) -> int:
        """Add the next version, unless ``breaking`` (judged by the caller) lists changes
        that break the type's mode; the new version's number."""
        if upcast is not None and not self.versions:
            raise InvalidSchemaError("upcast", "the first version has nothing to upcast from")
        if breaking and self.compatibility is not Compatibility.NONE:
            raise IncompatibleSchemaError(self.name, self.compatibility, breaking)
        version = len(self.versions) + 1
        self.trigger_event(
            self.VersionAdded,
            event_id=event_id or uuid4(),
            version=version,
            schema=schema,
            upcast=upcast,
            personal_fields=list(personal_fields),
        )
        return version

    def deprecate(self, version: int, *, event_id: UUID | None = None) -> None:
        """Refuse new posts of ``version`` from now on."""
        if self.version_of(version).deprecated:
            raise VersionAlreadyDeprecatedError(self.name, version)
        self.trigger_event(self.VersionDeprecated, event_id=event_id or uuid4(), version=version)

    def postable(self, version: int) -> TypeVersion:
        """``version``, if events may be posted at it."""
        found = self.version_of(version)
        if found.deprecated:
            raise EventVersionDeprecatedError(self.name, version, self.current)
        return found

    def version_of(self, version: int) -> TypeVersion:
        if not 1 <= version <= len(self.versions):
            raise EventVersionNotFoundError(self.name, version, self.current)
        return self.versions[version - 1]

    @property
    def current(self) -> int | None:
        """The newest version that is not deprecated (None: none is postable)."""
        live = [v.number for v in self.versions if not v.deprecated]
        return live[-1] if live else None

    @property
    def latest(self) -> TypeVersion | None:
        return self.versions[-1] if self.versions else None


def checked_type_name(name: str) -> str:
    """``name`` if it can name a team type: UPPER_SNAKE_CASE, no built-in's prefix."""
    if not isinstance(name, str) or not TYPE_NAME.match(name) or len(name) > MAX_NAME:
        raise InvalidEventTypeError(
            "name",
            f"An event type's name is UPPER_SNAKE_CASE (A-Z, 0-9 and single underscores, "
            f"starting with a letter), at most {MAX_NAME} characters; not {name!r}.",
        )
    if name.startswith(RESERVED_PREFIXES):
        raise InvalidEventTypeError(
            "name",
            f"{name} clashes with HoT's built-in events: names starting with "
            f"{' or '.join(RESERVED_PREFIXES)} are HoT's own.",
        )
    return name


def _checked_text(field: str, value: str, limit: int) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > limit or any(ord(c) < 32 and c not in "\n\t" for c in text):
        raise InvalidEventTypeError(
            field, f"The {field} is text of 1 to {limit} characters, without control characters."
        )
    return text


def _checked_mode(mode: str) -> str:
    if mode not in Compatibility.__members__:
        modes = ", ".join(Compatibility.__members__)
        raise InvalidEventTypeError("compatibility", f"compatibility is one of {modes}.")
    return str(mode)


__all__ = [
    "Compatibility",
    "EventTypeDefinition",
    "EventTypeExistsError",
    "TypeVersion",
    "checked_type_name",
]
