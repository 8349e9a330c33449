"""The open catalog's use cases: teams' event types, registered and read at run time.

``HumansApplication`` is a ``TeamCatalog``: its commands go through the one
``CommandPipeline`` (their subject is the type), its queries read the types'
aggregates. Types are found by their registrations in the log (a small partial index
of the events table holds just those), then loaded like any aggregate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hot.application.catalog import CATALOG
from hot.application.catalog_commands import (
    AddEventTypeVersion,
    DeprecateEventTypeVersion,
    Proposal,
    RegisterEventType,
    judged,
)
from hot.application.deciding import Conditions
from hot.application.idempotency import IdempotencyKey
from hot.application.pipeline import CommandPipeline
from hot.application.queries import HumanQueries
from hot.application.upcasts import parse_upcast
from hot.application.views import EventTypeInfo, RecordedEvent
from hot.domain.errors import EventTypeNotFoundError
from hot.domain.event_types import EventTypeDefinition, TypeVersion
from hot_follow.upcasts import at_latest

REGISTRATIONS = EventTypeDefinition.Registered.TOPIC
IdempotencyKeys = IdempotencyKey | Sequence[IdempotencyKey] | None


@dataclass(frozen=True)
class EventTypeView:
    """A team's event type as readers see it, with every version."""

    name: str
    description: str
    owner: str
    compatibility: str
    versions: tuple[TypeVersion, ...]
    current: int | None


@dataclass(frozen=True)
class VersionCheck:
    """A dry run's answer: whether the version would be accepted, and what it breaks."""

    compatible: bool
    errors: tuple[tuple[str, str], ...]


class TeamCatalog(HumanQueries):
    """Teams' event types: registered, versioned and deprecated through the pipeline."""

    _commands: CommandPipeline

    async def register_event_type(
        self,
        name: str,
        description: str,
        owner: str,
        compatibility: str = "BACKWARD",
        *,
        idempotency: IdempotencyKeys = None,
    ) -> EventTypeView:
        """Register a team's event type (no version yet)."""
        command = RegisterEventType(name, description, owner, compatibility)
        await self._commands.run(command, Conditions.of(None, idempotency))
        return await self.event_type(name)

    async def add_event_type_version(
        self,
        name: str,
        schema: Any,
        upcast: Any = None,
        *,
        expected: int | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> int:
        """Add the next version of ``name``; its number."""
        command = AddEventTypeVersion(name, schema, upcast, expected)
        result = await self._commands.run(command, Conditions.of(None, idempotency))
        added = await self._threads.run(self._history, result.id, result.version - 1, 1)
        return int(added[0].payload["version"])

    async def check_event_type_version(self, name: str, schema: Any, upcast: Any) -> VersionCheck:
        """Whether the version would be accepted now (its schema and upcast valid, nothing
        it breaks), recording nothing."""
        definition = await self._threads.run(self._definition, name)
        proposal: Proposal = judged(definition, schema, upcast)
        return VersionCheck(not proposal.breaking, proposal.breaking)

    async def deprecate_event_type_version(
        self, name: str, version: int, *, idempotency: IdempotencyKeys = None
    ) -> EventTypeView:
        """Refuse new posts of ``name`` at ``version`` from now on."""
        command = DeprecateEventTypeVersion(name, version)
        await self._commands.run(command, Conditions.of(None, idempotency))
        return await self.event_type(name)

    async def event_type(self, name: str) -> EventTypeView:
        """The team's type ``name`` with its versions (``EventTypeNotFoundError``)."""
        return _view(await self._threads.run(self._definition, name))

    async def event_type_version(self, name: str, version: int) -> TypeVersion:
        """One version of the team's type ``name`` (``EventVersionNotFoundError``)."""
        definition = await self._threads.run(self._definition, name)
        return definition.version_of(version)

    async def event_types(self) -> list[EventTypeView]:
        """Every team's type, in the order they were registered."""
        return [_view(d) for d in await self._threads.run(self._definitions)]

    async def every_event_type(self) -> list[EventTypeInfo]:
        """The whole catalog: every built-in event, then each version of each team's type."""
        teams = [
            EventTypeInfo(
                view.name,
                version.number,
                view.description,
                version.schema,
                view.owner,
                view.compatibility,
                version.deprecated,
            )
            for view in await self.event_types()
            for version in view.versions
        ]
        return [*self.catalog(), *teams]

    async def as_latest(self, events: Sequence[RecordedEvent]) -> list[RecordedEvent]:
        """``events`` with each team event of an older version upcast to its type's
        latest version (built-in events, and the latest, as they are)."""
        names = {e.name for e in events if e.name not in CATALOG}
        definitions = await self._threads.run(self._definitions_named, names)
        upcasts = {  # each version's upcast parsed once for the page, not once an event
            name: [None if v.upcast is None else parse_upcast(v.upcast) for v in d.versions]
            for name, d in definitions.items()
        }
        return [at_latest(e, upcasts.get(e.name, ())) for e in events]

    # Blocking, in worker threads -------------------------------------------------------

    def _definition(self, name: str) -> EventTypeDefinition:
        found = self.load(EventTypeDefinition.id_for(name))
        if not isinstance(found, EventTypeDefinition):
            raise EventTypeNotFoundError(name)
        return found

    def _definitions(self) -> list[EventTypeDefinition]:
        rows = self.pages.query(
            "SELECT originator_id FROM {table} WHERE topic = %s ORDER BY notification_id",
            (REGISTRATIONS,),
        )
        found = [self.load(row[0]) for row in rows]
        return [d for d in found if isinstance(d, EventTypeDefinition)]


def _view(definition: EventTypeDefinition) -> EventTypeView:
    return EventTypeView(
        definition.name,
        definition.description,
        definition.owner,
        str(definition.compatibility),
        tuple(definition.versions),
        definition.current,
    )
