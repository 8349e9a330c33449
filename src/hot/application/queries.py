"""The read side of ``HumansApplication``: a human's state, history and the global log,
and humans found by email or external id (through the claims that keep those unique).

Each query is a coroutine: what blocks on PostgreSQL runs in the application's worker
threads. A human's current state is answered from the known state when that has
followed the log past the log's head as it was when the query began (one read of the
head, shared by the queries waiting for one): a read after a committed write, by any
process, sees that write. Otherwise, and for a past version or instant, it is loaded.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.persistence import Notification

from hot.application.catalog import CATALOG
from hot.application.decoding import EventDecoder, Row
from hot.application.head import LogHead
from hot.application.known import UNKNOWN, KnownState
from hot.application.ports import LogPages, PageRequest
from hot.application.threads import WorkerThreads
from hot.application.views import (
    EventTypeInfo,
    HumanView,
    LogPage,
    MembershipView,
    RecordedEvent,
)
from hot.domain import (
    Claim,
    EmailClaim,
    ExternalIdClaim,
    Human,
    HumanNotFoundError,
    InvalidDetailsError,
    InvalidQueryError,
    VersionNotFoundError,
)
from hot.domain.event_types import EventTypeDefinition
from hot.domain.values import checked_scheme
from hot_follow.events import MAX_PAGE  # the read contract's page limit
from hot_follow.names import unknown_names


@dataclass
class Reads:
    """How reads of a human's current state were answered, counted since the start: from
    the known state, or loaded from the store."""

    known: int = 0
    loaded: int = 0


class HumanQueries(Application[UUID]):
    """Queries return plain values, never aggregates.

    The log is read through ``pages``, the reader of its pages that the composition root
    hands down (``hot.infra.bootstrap``), which decodes with ``decoder``.
    """

    pages: LogPages
    claim_secret: bytes
    known: KnownState
    reads: Reads
    _threads: WorkerThreads
    _head: LogHead

    async def get_human(self, human_id: UUID, *, version: int | None = None) -> HumanView:
        """The human's state now, or at ``version``."""
        if version is not None and version < 1:
            raise InvalidQueryError("version", "version must be at least 1.")
        if version is None and await self._known_is_current():
            known = self.known.get(human_id)
            if isinstance(known, Human):
                self.reads.known += 1
                return _view(known)
        self.reads.loaded += 1
        return await self._threads.run(self._human_view, human_id, version)

    async def find_by_email(self, email: str) -> list[HumanView]:
        """The human holding ``email`` (compared as emails are unique: case aside), if any."""
        return await self._holder_of(EmailClaim.id_for(email, self.claim_secret))

    async def find_by_external_id(self, scheme: str, value: str) -> list[HumanView]:
        """The human whose id in ``scheme`` is ``value`` (exactly, trimmed as it is set), if any."""
        try:
            scheme = checked_scheme(scheme)
        except InvalidDetailsError as error:
            raise InvalidQueryError("external_id", str(error)) from None
        claim_id = ExternalIdClaim.id_for(scheme, value.strip(), self.claim_secret)
        return await self._holder_of(claim_id)

    async def get_human_as_of(self, human_id: UUID, instant: datetime) -> HumanView:
        """The human's state as it was recorded at ``instant`` (time travel)."""
        if instant.tzinfo is None:
            raise InvalidQueryError("as_of", "as_of needs a time zone (e.g. a trailing Z).")
        return await self._threads.run(self._human_view_as_of, human_id, instant)

    async def history(
        self,
        human_id: UUID,
        *,
        after: int = 0,
        limit: int = 100,
        personal: bool = True,
        min_position: int = 0,
    ) -> list[RecordedEvent]:
        """The human's events with sequence > ``after``, oldest first (personal fields
        masked unless ``personal``), as of the log's position ``min_position`` at least."""
        _check_page(after, limit, min_position)
        return await self._threads.run(
            self._history_page, human_id, after, limit, personal, min_position
        )

    async def read_log(
        self,
        *,
        after: int = 0,
        limit: int = 100,
        names: Sequence[str] = (),
        personal: bool = True,
        min_position: int = 0,
    ) -> LogPage:
        """A page of the global log after position ``after``, optionally of some names only
        (personal fields masked unless ``personal``), as of the log's position
        ``min_position`` at least (read-your-writes: a command's answer's ``position``)."""
        _check_page(after, limit, min_position)
        unknown = unknown_names(names)
        if not unknown and any(name not in CATALOG for name in names):
            unknown = await self._threads.run(self._unregistered, names)
        if unknown:
            raise InvalidQueryError("name", f"Unknown event name(s): {', '.join(unknown)}.")
        return await self._threads.run(
            self._log_page, after, limit, tuple(names), personal, min_position
        )

    async def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return await self._threads.run(self.head_now)

    def catalog(self) -> list[EventTypeInfo]:
        return [t.info() for t in CATALOG]

    async def _holder_of(self, claim_id: UUID) -> list[HumanView]:
        """The human holding the claim ``claim_id`` now: none or one. From the known state
        when it is current and knows the claim and its holder, as ``get_human``."""
        if await self._known_is_current():
            claim = self.known.get(claim_id)
            if isinstance(claim, Claim):
                holder = None if claim.holder is None else self.known.get(claim.holder)
                if claim.holder is None or holder is not None:
                    self.reads.known += 1
                    return _held_by(holder)
        self.reads.loaded += 1
        return await self._threads.run(self._holder_view, claim_id)

    # Blocking, in worker threads -------------------------------------------------------

    def _unregistered(self, names: Sequence[str]) -> list[str]:
        """The names among ``names`` of no built-in event nor registered team type."""
        teams = {name for name in names if name not in CATALOG}
        registered = self._definitions_named(teams)
        return [name for name in names if name in teams and name not in registered]

    def _definitions_named(self, names: set[str]) -> dict[str, EventTypeDefinition]:
        """The registered team types among ``names``, by name."""
        found = {n: self.load(EventTypeDefinition.id_for(n)) for n in names}
        return {n: d for n, d in found.items() if isinstance(d, EventTypeDefinition)}

    def head_now(self) -> int:
        """The position of the newest event in the log (0 when empty), read now."""
        return self.recorder.max_notification_id() or 0

    def load(self, aggregate_id: UUID) -> Any | None:
        """The aggregate now: what is known brought up to date, else loaded; None if
        nothing is recorded under the id. What is loaded is known from now on."""
        known = self.known.get(aggregate_id)
        if known is not None:
            current = _project(known, self.events.get(aggregate_id, gt=known.version))
        else:
            try:
                current = self.repository.get(aggregate_id, projector_func=_project)
            except AggregateNotFoundError:
                return None
        self.known.remember([copy.deepcopy(current)])
        return current

    def _human_view(self, human_id: UUID, version: int | None) -> HumanView:
        human = self.load(human_id) if version is None else self._load_human(human_id, version)
        if not isinstance(human, Human):
            raise HumanNotFoundError(human_id)
        if version is not None and human.version != version:
            raise VersionNotFoundError(human_id, version)
        return _view(human)

    def _holder_view(self, claim_id: UUID) -> list[HumanView]:
        claim = self.load(claim_id)
        if not isinstance(claim, Claim) or claim.holder is None:
            return []
        return _held_by(self.load(claim.holder))

    def _human_view_as_of(self, human_id: UUID, instant: datetime) -> HumanView:
        human: Human | None = None
        for event in cast(Any, self.events.get(human_id)):
            if event.timestamp > instant:
                break
            human = cast(Human | None, event.mutate(human))
        if not isinstance(human, Human):
            raise HumanNotFoundError(human_id)
        return _view(human)

    def _history_page(
        self, human_id: UUID, after: int, limit: int, personal: bool, min_position: int
    ) -> list[RecordedEvent]:
        events = self.pages.history(
            human_id, after, limit, personal=personal, at_least=min_position
        )
        if not events and not self._is_human(human_id):
            raise HumanNotFoundError(human_id)
        return events

    def _log_page(
        self, after: int, limit: int, names: tuple[str, ...], personal: bool, min_position: int
    ) -> LogPage:
        request = PageRequest(after, limit, names, personal=personal, at_least=min_position)
        events = tuple(self.pages.read(request))
        full = len(events) == limit
        return LogPage(events, events[-1].position if full else None)

    def recorded_events(self, notifications: Sequence[Notification]) -> list[RecordedEvent]:
        """Many stored public events as readers see them (their humans' keys fetched together)."""
        return self.decoder.decode([_row(n) for n in notifications])

    @cached_property
    def decoder(self) -> EventDecoder:
        """The decoder of this application's stored events, opening sealed fields with its keys."""
        return EventDecoder(CATALOG, personal_keys=getattr(self, "personal_keys", None))

    def _history(self, human_id: UUID, after: int, limit: int) -> list[RecordedEvent]:
        """``history`` without checks, personal fields masked (no key is looked up)."""
        return self.pages.history(human_id, after, limit, personal=False)

    def _load_human(self, human_id: UUID, version: int) -> Human:
        try:
            human = self.repository.get(human_id, version=version, projector_func=_project)
        except AggregateNotFoundError:
            raise HumanNotFoundError(human_id) from None
        if not isinstance(human, Human):
            raise HumanNotFoundError(human_id)
        return human

    def _is_human(self, aggregate_id: UUID) -> bool:
        first = self.recorder.select_events(aggregate_id, limit=1)
        return bool(first) and first[0].topic == Human.Registered.TOPIC

    async def _known_is_current(self) -> bool:
        """Whether the known state has followed the log past its head as it is now."""
        return (
            self.known.position != UNKNOWN and self.known.position >= await self._head.after_now()
        )


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


def _check_page(after: int, limit: int, min_position: int = 0) -> None:
    if min_position < 0:
        raise InvalidQueryError("min_position", "min_position must not be negative.")
    if after < 0:
        raise InvalidQueryError("after", "after must not be negative.")
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidQueryError("limit", f"limit must be between 1 and {MAX_PAGE}, not {limit}.")


def _held_by(holder: Any) -> list[HumanView]:
    """The holder of a claim as a lookup answers it: none if nobody (or no human) holds it."""
    return [_view(holder)] if isinstance(holder, Human) and not holder.forgotten else []


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
        external_ids=dict(human.external_ids),
        registered_at=human.created_on,
        modified_at=human.modified_on,
    )
