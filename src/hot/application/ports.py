"""What the application needs from outside it beyond ``eventsourcing``'s interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol
from uuid import UUID

from eventsourcing.persistence import StoredEvent

from hot.application.idempotency import IdempotencyRecord
from hot.application.personal import PersonalKey
from hot.application.views import RecordedEvent


@dataclass(frozen=True)
class Saved:
    """Where a transaction's events went: their log positions, in order, and the position
    of the last public event before them, if the writer was asked (0: none, or not asked)."""

    positions: list[int]
    before: int


class EventWriter(Protocol):
    """Writes a batch of stored events, with personal-data keys and idempotency records,
    in one transaction."""

    def write(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        new_personal_keys: Sequence[PersonalKey] = (),
        destroyed_personal_keys: Sequence[UUID] = (),
        idempotency_records: Sequence[IdempotencyRecord] = (),
        public_before: bool = False,
    ) -> Saved:
        """Record ``stored_events`` (``IntegrityError`` if a version is taken, or a record's
        key), keeping the new humans' keys, destroying the forgotten humans' keys and
        keeping the idempotency records with them."""
        ...

    def idempotency_records(self, record_ids: Sequence[UUID]) -> dict[UUID, IdempotencyRecord]:
        """The records kept under ``record_ids``, by id (none for an id never used)."""
        ...


class PageRequest(NamedTuple):
    """A page of the log: up to ``limit`` events of ``names`` (none: every public event,
    built-in or a team's) with positions in
    (``after``, ``upto``] (no upper bound if None), oldest first; personal fields
    shown if ``personal``, else masked."""

    after: int
    limit: int
    names: tuple[str, ...]
    upto: int | None = None
    personal: bool = True
    at_least: int = 0  # read-your-writes: the answer holds the log up to this position


class LogPages(Protocol):
    """Reads pages of the log, decoded (``hot.infra.log_pages.LogPages``)."""

    def read(self, request: PageRequest) -> list[RecordedEvent]:
        """The events of the page ``request`` asks for."""
        ...

    def history(
        self, subject: UUID, after: int, limit: int, *, personal: bool = True, at_least: int = 0
    ) -> list[RecordedEvent]:
        """Up to ``limit`` public events of ``subject`` with sequence > ``after``, oldest first."""
        ...

    def query(self, statement: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        """The rows of ``statement`` on the events table (``{table}`` in it), as tuples."""
        ...
