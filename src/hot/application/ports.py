"""What the application needs from outside it beyond ``eventsourcing``'s interface."""

from __future__ import annotations

from typing import NamedTuple, Protocol
from uuid import UUID

from hot.application.views import RecordedEvent


class PageRequest(NamedTuple):
    """A page of the log: up to ``limit`` events of ``names`` with positions in
    (``after``, ``upto``] (no upper bound if None), oldest first; personal fields
    shown if ``personal``, else masked."""

    after: int
    limit: int
    names: tuple[str, ...]
    upto: int | None = None
    personal: bool = True


class LogPages(Protocol):
    """Reads pages of the log, decoded (``hot.infra.log_pages.LogPages``)."""

    def read(self, request: PageRequest) -> list[RecordedEvent]:
        """The events of the page ``request`` asks for."""
        ...

    def history(
        self, subject: UUID, after: int, limit: int, *, personal: bool = True
    ) -> list[RecordedEvent]:
        """Up to ``limit`` public events of ``subject`` with sequence > ``after``, oldest first."""
        ...
