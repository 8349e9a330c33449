"""The commands HoT accepts, as values: what each asks, and how the domain decides it.

A command's ``decide`` reads the aggregates it is about through ``Deciding`` (the state
as this process knows it, or fresh from the store: it cannot tell which) and asks the
domain to change them; it answers a ``Decision``, the human first. Nothing here reads
or writes: ``CommandPipeline`` loads, checks the conditions, commits and retries.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from eventsourcing.domain import BaseAggregate

from hot.domain import Claim, EmailClaim, ExternalIdClaim, Human, HumanExistsError, HumanKind
from hot.domain.event_types import EventTypeDefinition, TypeVersion


class Deciding(Protocol):
    """The state a command is decided on."""

    def human(self, human_id: UUID) -> Human:
        """The human (``HumanNotFoundError`` if none), at the version ``If-Match`` names."""
        ...

    def exists(self, human_id: UUID) -> bool:
        """Whether anything is recorded under ``human_id``."""
        ...

    def claim(self, email: str, holder: UUID) -> EmailClaim:
        """The claim on ``email``, taken for ``holder`` (``EmailTakenError`` if held)."""
        ...

    def release(self, email: str) -> Sequence[EmailClaim]:
        """The claim on ``email``, released (none if nobody ever claimed it)."""
        ...

    def claim_external_id(self, scheme: str, value: str, holder: UUID) -> ExternalIdClaim:
        """The claim on ``value`` in ``scheme``, taken for ``holder`` (``ExternalIdTakenError``
        if held)."""
        ...

    def release_external_id(self, scheme: str, value: str) -> Sequence[ExternalIdClaim]:
        """The claim on ``value`` in ``scheme``, released (none if nobody ever claimed it)."""
        ...

    def event_type(self, name: str) -> EventTypeDefinition:
        """The team's event type ``name`` (``EventTypeNotFoundError`` if none)."""
        ...

    def check_payload(self, name: str, version: TypeVersion, payload: dict[str, Any]) -> None:
        """``InvalidPayloadError`` listing every path where ``payload`` fails the schema."""
        ...

    def today(self) -> date:
        """Today, in the zone HoT judges days in."""
        ...

    def new_id(self) -> UUID:
        """A new random id, for a new human or event."""
        ...


@dataclass(frozen=True)
class Decision:
    """What a command changed: its ``subject`` (a human, or a team's event type) and
    the ``others`` (claims).

    ``new_human``: the human is new, and a personal-data key is made for them;
    ``forgets``: the human's key is destroyed in the transaction that records it.
    """

    subject: BaseAggregate[UUID]
    others: tuple[BaseAggregate[UUID], ...] = ()
    new_human: bool = False
    forgets: bool = False


class Command(Protocol):
    """A request to change one human or event type. ``subject``: its id (None: a new id)."""

    @property
    def subject(self) -> UUID | None: ...

    def decide(self, state: Deciding) -> Decision: ...


@dataclass(frozen=True)
class Register:
    """Record a new human, claiming the email for them."""

    name: str
    email: str
    kind: HumanKind
    human_id: UUID | None = None
    event_id: UUID | None = None

    @property
    def subject(self) -> UUID | None:
        return self.human_id

    def decide(self, state: Deciding) -> Decision:
        if self.human_id is not None and state.exists(self.human_id):
            raise HumanExistsError(self.human_id)
        human = Human.register(
            self.name,
            self.email,
            self.kind,
            human_id=self.human_id or state.new_id(),
            event_id=self.event_id or state.new_id(),
        )
        return Decision(human, (state.claim(human.email, human.id),), new_human=True)


@dataclass(frozen=True)
class OfAHuman:
    """A command about a human who exists: ``human_id`` is its subject."""

    human_id: UUID

    @property
    def subject(self) -> UUID:
        return self.human_id


@dataclass(frozen=True)
class Join(OfAHuman):
    """Start a membership on ``on``, in ``role``."""

    on: date
    role: str
    event_id: UUID | None = None

    def decide(self, state: Deciding) -> Decision:
        human = state.human(self.human_id)
        human.join(self.on, self.role, event_id=self.event_id or state.new_id())
        return Decision(human)


@dataclass(frozen=True)
class Leave(OfAHuman):
    """End the current membership; ``on`` is its last day."""

    on: date
    reason: str | None = None
    event_id: UUID | None = None

    def decide(self, state: Deciding) -> Decision:
        human = state.human(self.human_id)
        human.leave(self.on, self.reason, event_id=self.event_id or state.new_id())
        return Decision(human)


@dataclass(frozen=True)
class Attend(OfAHuman):
    """Record that the human attended on the day ``on``."""

    on: date
    event_id: UUID | None = None

    def decide(self, state: Deciding) -> Decision:
        human = state.human(self.human_id)
        human.attend(self.on, today=state.today(), event_id=self.event_id or state.new_id())
        return Decision(human)


@dataclass(frozen=True)
class ChangeDetails(OfAHuman):
    """Change the name and/or the email; a new email moves the uniqueness claim."""

    name: str | None = None
    email: str | None = None
    event_id: UUID | None = None

    def decide(self, state: Deciding) -> Decision:
        human = state.human(self.human_id)
        moved: list[EmailClaim] = []
        if self.email is not None and human.email_changes_claim(self.email):
            moved.append(state.claim(self.email, human.id))
            moved.extend(state.release(human.email))
        human.change_details(self.name, self.email, event_id=self.event_id or state.new_id())
        return Decision(human, tuple(moved))


@dataclass(frozen=True)
class SetExternalId(OfAHuman):
    """Set the human's id in ``scheme`` to ``value``: the value is claimed in the scheme,
    the one it replaces released."""

    scheme: str
    value: str
    event_id: UUID | None = None

    def decide(self, state: Deciding) -> Decision:
        human = state.human(self.human_id)
        replaced = human.external_ids.get(self.scheme)
        human.set_external_id(self.scheme, self.value, event_id=self.event_id or state.new_id())
        value = human.external_ids[self.scheme]  # as the domain checked it (trimmed)
        moved = [state.claim_external_id(self.scheme, value, human.id)]
        if replaced is not None:
            moved.extend(state.release_external_id(self.scheme, replaced))
        return Decision(human, tuple(moved))


@dataclass(frozen=True)
class Forget(OfAHuman):
    """Forget the human: their key destroyed, ``by`` recorded, their email and external
    ids freed."""

    by: str

    def decide(self, state: Deciding) -> Decision:
        human = state.human(self.human_id)
        released: list[Claim] = [*state.release(human.email)]
        for scheme, value in human.external_ids.items():
            released.extend(state.release_external_id(scheme, value))
        human.forget(self.by, event_id=state.new_id())
        return Decision(human, tuple(released), forgets=True)


@dataclass(frozen=True)
class RecordTeamEvent(OfAHuman):
    """Record a fact of a team's event type about the human, at a postable version."""

    name: str
    version: int
    payload: dict[str, Any]
    event_id: UUID | None = None

    def decide(self, state: Deciding) -> Decision:
        version = state.event_type(self.name).postable(self.version)
        state.check_payload(self.name, version, self.payload)
        human = state.human(self.human_id)
        human.record_team_event(
            self.name,
            self.version,
            self.payload,
            list(version.personal_fields),
            event_id=self.event_id or state.new_id(),
        )
        return Decision(human)
