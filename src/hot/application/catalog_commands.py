"""The open catalog's commands: register a team's event type, add a version, deprecate one.

They run through the same ``CommandPipeline`` as the commands about humans; their
subject is the type (``EventTypeDefinition``), whose id derives from its name, so two
registrations of one name, or two additions of one next version, conflict at commit
and exactly one wins. A proposed version is judged here (``judged``): its schema
checked, its upcast parsed, its breaking changes listed for the type's mode.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from hot.application.commands import Deciding, Decision
from hot.application.compatibility import breaking_changes
from hot.application.payload_schemas import PayloadValidator, checked_schema, personal_fields
from hot.application.upcasts import parse_upcast
from hot.domain.errors import EventTypeExistsError, EventVersionTakenError
from hot.domain.event_types import EventTypeDefinition, TypeVersion, checked_type_name


@dataclass(frozen=True)
class Proposal:
    """A proposed version of a type, judged: what would be stored, and what it breaks."""

    schema: dict[str, Any]
    upcast: dict[str, Any] | None
    personal_fields: tuple[str, ...]
    breaking: tuple[tuple[str, str], ...]


def judged(definition: EventTypeDefinition, schema: Any, upcast: Any) -> Proposal:
    """``schema`` and ``upcast`` as the next version of ``definition`` would hold them, and
    each change (path, reason) that breaks its compatibility mode (none under ``NONE``).

    A field personal in the latest version must stay personal, whatever the mode: a new
    version must not publish in clear what the one before sealed.
    """
    checked = checked_schema(schema)
    parsed = None if upcast is None else parse_upcast(upcast)
    personal = personal_fields(checked)
    latest = definition.latest
    breaking: list[tuple[str, str]] = []
    if latest is not None:
        found = breaking_changes(latest.schema, checked, definition.compatibility, parsed)
        breaking = [(change.path, change.reason) for change in found]
        renamed = parsed.rename if parsed is not None else {}
        for field in latest.personal_fields:
            now = renamed.get(field, field)
            if now in checked.get("properties", {}) and now not in personal:
                breaking.append((now, "personal in the version before; it must stay personal"))
    stored_upcast = None if parsed is None else parsed.to_json()
    return Proposal(checked, stored_upcast, personal, tuple(breaking))


class PayloadValidators:
    """The compiled validator of each version's schema, made once (a version's schema never
    changes), so a team event's payload is checked without compiling anything."""

    def __init__(self) -> None:
        self._compiled: dict[tuple[str, int], PayloadValidator] = {}

    def check(self, name: str, version: TypeVersion, payload: dict[str, Any]) -> None:
        """``InvalidPayloadError`` listing every path where ``payload`` fails the schema."""
        validator = self._compiled.get((name, version.number))
        if validator is None:
            validator = self._compiled[name, version.number] = PayloadValidator(version.schema)
        validator.check(payload)


@dataclass(frozen=True)
class OfAType:
    """A command about a team's event type: its ``name`` names its subject."""

    name: str

    @property
    def subject(self) -> UUID:
        return EventTypeDefinition.id_for(self.name)


@dataclass(frozen=True)
class RegisterEventType(OfAType):
    """Register a team's event type: no version yet (add one to post events)."""

    description: str
    owner: str
    compatibility: str

    def decide(self, state: Deciding) -> Decision:
        checked_type_name(self.name)
        if state.exists(self.subject):
            raise EventTypeExistsError(self.name)
        definition = EventTypeDefinition.register(
            self.name,
            self.description,
            self.owner,
            self.compatibility,
            event_id=state.new_id(),
        )
        return Decision(definition)


@dataclass(frozen=True)
class AddEventTypeVersion(OfAType):
    """Add the next version of a type; ``expected``: the number it must get (a race lost
    to another registration of that number is a conflict, not a later number)."""

    schema: Any
    upcast: Any = None
    expected: int | None = None

    def decide(self, state: Deciding) -> Decision:
        definition = state.event_type(self.name)
        proposal = judged(definition, self.schema, self.upcast)
        next_version = len(definition.versions) + 1
        if self.expected is not None and self.expected != next_version:
            raise EventVersionTakenError(self.name, self.expected, next_version)
        definition.add_version(
            proposal.schema,
            proposal.upcast,
            proposal.personal_fields,
            proposal.breaking,
            event_id=state.new_id(),
        )
        return Decision(definition)


@dataclass(frozen=True)
class DeprecateEventTypeVersion(OfAType):
    """Refuse new posts of one version of a type; it is still read."""

    version: int

    def decide(self, state: Deciding) -> Decision:
        definition = state.event_type(self.name)
        definition.deprecate(self.version, event_id=state.new_id())
        return Decision(definition)
