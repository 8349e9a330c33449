"""The read side of ``HumansApplication``: a human's state, history and the global log."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import cached_property
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Notification

from hot.application.catalog import CATALOG
from hot.application.decoding import EventDecoder, Row
from hot.application.ports import LogPages, PageRequest
from hot.application.views import (
    EventTypeInfo,
    HumanView,
    LogPage,
    MembershipView,
    RecordedEvent,
)
from hot.domain import Human, HumanNotFoundError, InvalidQueryError, VersionNotFoundError

T = TypeVar("T")
MAX_PAGE = 10_000


class HumanQueries(Application[UUID]):
    """Queries return plain values, never aggregates.

    The log is read through ``pages``, the reader of its pages that the composition root
    hands down (``hot.infra.bootstrap``), which decodes with ``decoder``.
    """

    pages: LogPages

    def get_human(self, human_id: UUID, *, version: int | None = None) -> HumanView:
        """The human's state now, or at ``version``."""
        if version is not None and version < 1:
            raise InvalidQueryError("version", "version must be at least 1.")
        human = self._load(human_id, version)
        if version is not None and human.version != version:
            raise VersionNotFoundError(human_id, version)
        return _view(human)

    def get_human_as_of(self, human_id: UUID, instant: datetime) -> HumanView:
        """The human's state as it was recorded at ``instant`` (time travel)."""
        if instant.tzinfo is None:
            raise InvalidQueryError("as_of", "as_of needs a time zone (e.g. a trailing Z).")
        human: Human | None = None
        for event in cast(Any, self.events.get(human_id)):
            if event.timestamp > instant:
                break
            human = cast(Human | None, event.mutate(human))
        if not isinstance(human, Human):
            raise HumanNotFoundError(human_id)
        return _view(human)

    def history(self, human_id: UUID, *, after: int = 0, limit: int = 100) -> list[RecordedEvent]:
        """The human's events with sequence > ``after``, oldest first."""
        _check_page(after, limit)
        events = self.pages.history(human_id, after, limit)
        if not events and not self._is_human(human_id):
            raise HumanNotFoundError(human_id)
        return events

    def read_log(self, *, after: int = 0, limit: int = 100, names: Sequence[str] = ()) -> LogPage:
        """A page of the global log after position ``after``, optionally of some names only."""
        _check_page(after, limit)
        unknown = [n for n in names if n not in CATALOG]
        if unknown:
            raise InvalidQueryError("name", f"Unknown event name(s): {', '.join(unknown)}.")
        events = tuple(self.pages.read(PageRequest(after, limit, tuple(names) or CATALOG.names)))
        full = len(events) == limit
        return LogPage(events, events[-1].position if full else None)

    def catalog(self) -> list[EventTypeInfo]:
        return [t.info() for t in CATALOG]

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    def recorded_events(self, notifications: Sequence[Notification]) -> list[RecordedEvent]:
        """Many stored public events as readers see them (their humans' keys fetched together)."""
        return self.decoder.decode([_row(n) for n in notifications])

    def recorded_event(self, notification: Notification) -> RecordedEvent:
        """A stored public event as readers see it (upcast to its current version)."""
        return self.recorded_events([notification])[0]

    @cached_property
    def decoder(self) -> EventDecoder:
        """The decoder of this application's stored events, opening sealed fields with its keys."""
        return EventDecoder(CATALOG, keys=getattr(self, "personal_keys", None))

    def _history(self, human_id: UUID, after: int, limit: int) -> list[RecordedEvent]:
        """``history`` without checks, personal fields masked (no key is looked up)."""
        return self.pages.history(human_id, after, limit, personal=False)

    # Loading ------------------------------------------------------------------------

    def _load(self, human_id: UUID, version: int | None = None, *, fresh: bool = True) -> Human:
        """The human now (``fresh``), as this process last knew it, or at ``version``."""
        try:
            return self._get(Human, human_id, version, fresh=fresh)
        except AggregateNotFoundError:
            raise HumanNotFoundError(human_id) from None

    def _get(
        self, cls: type[T], aggregate_id: UUID, version: int | None = None, *, fresh: bool = True
    ) -> T:
        """A copy of the aggregate: from the cache, brought up to date unless not ``fresh``."""
        aggregate: Any = self.repository.get(aggregate_id, version=version, projector_func=_project)
        if fresh and version is None:
            aggregate = _project(aggregate, self.events.get(aggregate_id, gt=aggregate.version))
        if not isinstance(aggregate, cls):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def _is_human(self, aggregate_id: UUID) -> bool:
        first = self.recorder.select_events(aggregate_id, limit=1)
        return bool(first) and first[0].topic in CATALOG


def _project(aggregate: Any, events: Iterable[Any]) -> Any:
    """``eventsourcing``'s projector without its per-event runtime protocol check (slow)."""
    for event in events:
        aggregate = event.mutate(aggregate)
    return aggregate


def _row(notification: Notification) -> Row:
    return Row(
        notification.id,
        cast(UUID, notification.originator_id),  # an Application[UUID]
        notification.originator_version,
        notification.topic,
        bytes(notification.state),
    )


def _check_page(after: int, limit: int) -> None:
    if after < 0:
        raise InvalidQueryError("after", "after must not be negative.")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidQueryError("limit", f"limit must be between 1 and {MAX_PAGE}, not {limit}.")


def _view(human: Human) -> HumanView:
    return HumanView(
        id=human.id,
        version=human.version,
        name=human.name,
        email=human.email,
        kind=str(human.kind),
        status=human.status,
        memberships=tuple(
            MembershipView(m.joined_on, m.left_on, m.role) for m in human.memberships
        ),
        attended_days=tuple(sorted(human.attended_days)),
        registered_at=human.created_on,
        modified_at=human.modified_on,
    )
