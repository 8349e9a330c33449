"""``DecidingState``: the state a command is decided on, as this process knows it or fresh.

Known state costs no I/O, so a decision on it runs on the event loop; but it may be
stale, or lack an aggregate the command reads (``NotKnownError``): then the pipeline
decides again on fresh state, loaded from the store in a worker thread. Either way the
command sees the same interface (``Deciding``), and ``If-Match`` is checked here, on the
human the command is about, at the version it is decided on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol
from uuid import UUID

from hot.application.catalog_commands import PayloadValidators
from hot.application.commands import Command
from hot.application.idempotency import IdempotencyKey
from hot.application.known import KnownState
from hot.application.views import CommandResult
from hot.domain import EmailClaim, EmailTakenError, Human, HumanNotFoundError, VersionMismatchError
from hot.domain.errors import EventTypeNotFoundError
from hot.domain.event_types import EventTypeDefinition, TypeVersion


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
        secret = self._store.claim_secret
        claim = self._claim(email)
        if claim is None:
            return EmailClaim.claim(email, holder, secret)
        if claim.is_held:
            raise EmailTakenError(email)
        claim.reclaim(holder)
        return claim

    def release(self, email: str) -> Sequence[EmailClaim]:
        claim = self._claim(email)
        if claim is None:
            return []
        claim.release()
        return [claim]

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

    def _claim(self, email: str) -> EmailClaim | None:
        found = self._aggregate(EmailClaim.id_for(email, self._store.claim_secret))
        return found if isinstance(found, EmailClaim) else None

    def _aggregate(self, aggregate_id: UUID) -> Any | None:
        if self._fresh:
            return self._store.load(aggregate_id)
        found = self._store.known.get(aggregate_id)
        if found is None:
            raise NotKnownError()
        return found
