"""``DecidingState``: the state a command is decided on, as this process knows it or fresh.

Known state costs no I/O, so a decision on it runs on the event loop; but it may be
stale, or lack an aggregate the command reads (``NotKnownError``): then the pipeline
decides again on fresh state, loaded from the store in a worker thread. Either way the
command sees the same interface (``Deciding``), and ``If-Match`` is checked here, on the
human the command is about, at the version it is decided on.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol, TypeVar
from uuid import UUID

from hot.application.catalog_commands import PayloadValidators
from hot.application.commands import Command
from hot.application.idempotency import IdempotencyKey
from hot.application.known import KnownState
from hot.application.views import CommandResult
from hot.domain import (
    Claim,
    DomainError,
    EmailClaim,
    EmailTakenError,
    ExternalIdClaim,
    ExternalIdTakenError,
    Human,
    HumanNotFoundError,
    VersionMismatchError,
)
from hot.domain.errors import EventTypeNotFoundError
from hot.domain.event_types import EventTypeDefinition, TypeVersion

C = TypeVar("C", bound=Claim)


class NotKnownError(Exception):
    """The known state cannot decide this command: an aggregate it reads is not known, or
    the human is not at the version ``If-Match`` names (the known state may be stale)."""


@dataclass(frozen=True)
class Conditions:
    """What makes a command conditional (``If-Match``) or safe to retry (idempotency keys)."""

    expected_version: int | None = None
    idempotency_keys: tuple[IdempotencyKey, ...] = ()

    @classmethod
    def of(
        cls,
        expected_version: int | None,
        idempotency_keys: IdempotencyKey | Sequence[IdempotencyKey] | None,
    ) -> Conditions:
        """The conditions of a command: no key, one, or several (an envelope's and a header's)."""
        if idempotency_keys is None:
            return cls(expected_version)
        if isinstance(idempotency_keys, IdempotencyKey):
            return cls(expected_version, (idempotency_keys,))
        return cls(expected_version, tuple(idempotency_keys))


NO_CONDITIONS = Conditions()


class Store(Protocol):
    """What decisions read: the known state, and the store behind it (blocking calls)."""

    known: KnownState
    claim_secret: bytes
    payload_validators: PayloadValidators

    def today(self) -> date: ...

    def new_id(self) -> UUID: ...

    def load(self, aggregate_id: UUID) -> Any | None:
        """The aggregate now, fresh from the store; None if nothing is recorded under the id."""
        ...

    def exists(self, aggregate_id: UUID) -> bool: ...

    def answered(self, idempotency_keys: Sequence[IdempotencyKey]) -> CommandResult | None:
        """The first answer to the request these keys name, if it was recorded."""
        ...


class DecidingState:
    """``Deciding`` over ``store``: its known state, or (``fresh``) the store itself."""

    def __init__(
        self, store: Store, conditions: Conditions, command: Command, *, fresh: bool = False
    ) -> None:
        self._store = store
        self._expected = conditions.expected_version
        self._subject = command.subject
        self._fresh = fresh

    def human(self, human_id: UUID) -> Human:
        human = self._aggregate(human_id)
        if not isinstance(human, Human):
            raise HumanNotFoundError(human_id)
        expected = self._expected
        if human_id == self._subject and expected is not None and expected != human.version:
            if not self._fresh:
                raise NotKnownError()
            raise VersionMismatchError(expected, human.version)
        return human

    def exists(self, human_id: UUID) -> bool:
        if self._fresh:
            return self._store.exists(human_id)
        if self._store.known.get(human_id) is None:
            raise NotKnownError()  # that nothing is known of an id says nothing
        return True

    def claim(self, email: str, holder: UUID) -> EmailClaim:
        claim_id = EmailClaim.id_for(email, self._store.claim_secret)
        return self._take(EmailClaim, claim_id, holder, lambda: EmailTakenError(email))

    def release(self, email: str) -> Sequence[EmailClaim]:
        return self._release(EmailClaim, EmailClaim.id_for(email, self._store.claim_secret))

    def claim_external_id(self, scheme: str, value: str, holder: UUID) -> ExternalIdClaim:
        claim_id = ExternalIdClaim.id_for(scheme, value, self._store.claim_secret)
        return self._take(ExternalIdClaim, claim_id, holder, lambda: ExternalIdTakenError(scheme))

    def release_external_id(self, scheme: str, value: str) -> Sequence[ExternalIdClaim]:
        claim_id = ExternalIdClaim.id_for(scheme, value, self._store.claim_secret)
        return self._release(ExternalIdClaim, claim_id)

    def event_type(self, name: str) -> EventTypeDefinition:
        found = self._aggregate(EventTypeDefinition.id_for(name))
        if not isinstance(found, EventTypeDefinition):
            raise EventTypeNotFoundError(name)
        return found

    def check_payload(self, name: str, version: TypeVersion, payload: dict[str, Any]) -> None:
        self._store.payload_validators.check(name, version, payload)

    def today(self) -> date:
        return self._store.today()

    def new_id(self) -> UUID:
        return self._store.new_id()

    def _take(
        self, kind: type[C], claim_id: UUID, holder: UUID, taken: Callable[[], DomainError]
    ) -> C:
        """The claim ``claim_id`` taken for ``holder``: made, or reclaimed if released."""
        claim = self._claim(kind, claim_id)
        if claim is None:
            return kind.taken(claim_id, holder)
        if claim.is_held:
            raise taken()
        claim.reclaim(holder)
        return claim

    def _release(self, kind: type[C], claim_id: UUID) -> list[C]:
        claim = self._claim(kind, claim_id)
        if claim is None:
            return []
        claim.release()
        return [claim]

    def _claim(self, kind: type[C], claim_id: UUID) -> C | None:
        found = self._aggregate(claim_id)
        return found if isinstance(found, kind) else None

    def _aggregate(self, aggregate_id: UUID) -> Any | None:
        if self._fresh:
            return self._store.load(aggregate_id)
        found = self._store.known.get(aggregate_id)
        if found is None:
            raise NotKnownError()
        return found
