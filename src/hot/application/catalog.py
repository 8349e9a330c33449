"""The event catalog, derived from the domain's event classes: names, versions, schemas.

An event's catalog name is its stored topic, its version the class's ``class_version``,
its description the class docstring, and its payload schema comes from a pydantic
model built from the event's own fields. Nothing here is written by hand twice.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
import typing
import warnings
from dataclasses import dataclass
from datetime import date
from enum import Enum
from functools import cached_property
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict, create_model

from hot.application.views import EventTypeInfo, RecordedEvent
from hot.domain import HUMAN_EVENT_CLASSES, Human
from hot.domain.event_types import EventTypeDefinition

StoredEventClass = type[Human.Event] | type[EventTypeDefinition.Event]

# Fields every stored event has, which the envelope carries rather than the payload.
ENVELOPE_FIELDS = frozenset(
    {"originator_id", "originator_version", "timestamp", "originator_topic", "event_id"}
)


@dataclass(frozen=True)
class EventType:
    """One event name at one version, and how its payload looks."""

    event_class: StoredEventClass

    @cached_property
    def name(self) -> str:
        return str(getattr(self.event_class, "TOPIC"))  # noqa: B009  (a stored name, set on each class)

    @cached_property
    def version(self) -> int:
        return int(getattr(self.event_class, "class_version", 1))

    @property
    def description(self) -> str:
        return inspect.cleandoc(self.event_class.__doc__ or "").split("\n\n")[0]

    @cached_property
    def payload_fields(self) -> tuple[str, ...]:
        fields = dataclasses.fields(self.event_class)
        return tuple(f.name for f in fields if f.name not in ENVELOPE_FIELDS)

    @cached_property
    def payload_model(self) -> type[BaseModel]:
        """A pydantic model of the payload: optional fields default to null, no others allowed."""
        hints = typing.get_type_hints(self.event_class)
        definitions: dict[str, Any] = {}
        for field in self.payload_fields:
            hint = hints[field]
            optional = isinstance(hint, types.UnionType) and type(None) in hint.__args__
            definitions[field] = (hint, None if optional else ...)
        with warnings.catch_warnings():  # a field named "schema" shadows nothing it uses
            warnings.simplefilter("ignore", UserWarning)
            model: type[BaseModel] = create_model(
                f"{self.event_class.__name__}Payload",
                __doc__=self.description,
                __config__=ConfigDict(extra="forbid"),
                **definitions,
            )
        return model

    @cached_property
    def personal_fields(self) -> tuple[str, ...]:
        """Payload fields holding personal data: encrypted at rest, masked without the scope."""
        return tuple(self.event_class.PERSONAL_FIELDS)

    def info(self) -> EventTypeInfo:
        schema = self.payload_model.model_json_schema()
        schema.pop("title", None)
        for field in self.personal_fields:
            schema["properties"][field]["x-personal"] = True
        return EventTypeInfo(self.name, self.version, self.description, schema)

    def recorded(self, event: Any, position: int) -> RecordedEvent:
        """``event`` as every reader sees it, at ``position`` in the log."""
        return RecordedEvent(
            id=event.event_id,
            name=self.name,
            version=self.version,
            subject=event.originator_id,
            sequence=event.originator_version,
            position=position,
            time=event.timestamp,
            payload=self.payload_of(event),
        )

    def payload_of(self, event: Any) -> dict[str, Any]:
        """The event's payload, ready for JSON."""
        return {f: _jsonable(getattr(event, f)) for f in self.payload_fields}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, date | UUID):
        return str(value)
    return value


class EventCatalog:
    """Every built-in public event type, by name (teams' types are in the log: see
    ``hot.domain.event_types``)."""

    def __init__(self, event_classes: typing.Iterable[StoredEventClass]) -> None:
        self._types = {t.name: t for t in map(EventType, event_classes)}

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._types)

    def __iter__(self) -> typing.Iterator[EventType]:
        return iter(self._types.values())

    def __contains__(self, name: object) -> bool:
        return name in self._types

    def __getitem__(self, name: str) -> EventType:
        return self._types[name]

    def get(self, name: str) -> EventType | None:
        """The type of ``name``, or None for a name that is not a public event's."""
        return self._types.get(name)


INTERNAL_PREFIX = "hot:"
"""How the stored topics of HoT's internal aggregates begin: no public event's name does."""


def is_public(name: str) -> bool:
    """Whether events stored under ``name`` are public (built-in or a team's)."""
    return not name.startswith(INTERNAL_PREFIX)


CATALOG_EVENT_CLASSES: tuple[type[EventTypeDefinition.Event], ...] = (
    EventTypeDefinition.Registered,
    EventTypeDefinition.VersionAdded,
    EventTypeDefinition.VersionDeprecated,
)
"""The open catalog's own changes: public events, followable like any other."""

CATALOG = EventCatalog((*HUMAN_EVENT_CLASSES, *CATALOG_EVENT_CLASSES))
_ABOUT_TYPES = frozenset(str(getattr(c, "TOPIC")) for c in CATALOG_EVENT_CLASSES)  # noqa: B009


def is_about_a_human(name: str) -> bool:
    """Whether an event of ``name`` is about a human (its subject): every public event but
    the catalog's own, whose subject is a team's type."""
    return name not in _ABOUT_TYPES
