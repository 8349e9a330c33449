"""What the application needs from its recorder beyond ``eventsourcing``'s interface."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Notification, StoredEvent

from hot.application.personal import PersonalKey


@dataclass(frozen=True)
class Saved:
    """Where a transaction's events went: their log positions, in order, and the position
    of the last event before them of the topics the writer was asked about (0: none)."""

    positions: list[int]
    before: int


class EventWriter(Protocol):
    """Writes a batch of stored events, with personal-data keys, in one transaction."""

    def write(
        self,
        stored_events: Sequence[StoredEvent],
        *,
        new_personal_keys: Sequence[PersonalKey] = (),
        destroyed_personal_keys: Sequence[UUID] = (),
        topics_before: Sequence[str] = (),
    ) -> Saved:
        """Record ``stored_events`` (``IntegrityError`` if a version is taken), keeping
        the new humans' keys and destroying the forgotten humans' keys with them."""
        ...


class HistoryRecorder(Protocol):
    """Reads one human's events together with their global log positions."""

    def select_history(self, originator_id: UUID, after: int, limit: int) -> Sequence[Notification]:
        """Events of ``originator_id`` with version > ``after``, oldest first."""
        ...
