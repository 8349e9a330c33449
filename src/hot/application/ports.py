"""What the application needs from its recorder beyond ``eventsourcing``'s interface."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import Notification


class HistoryRecorder(Protocol):
    """Reads one human's events together with their global log positions."""

    def select_history(self, originator_id: UUID, after: int, limit: int) -> Sequence[Notification]:
        """Events of ``originator_id`` with version > ``after``, oldest first."""
        ...
