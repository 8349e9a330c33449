"""``HumansApplication``: one method per use case, over the ``eventsourcing`` store.

Commands load, ask the aggregate, and save the human with the email claims it moves
in one transaction. A command that loses a race to another write of the same human
is decided again on the new state, unless the caller named the version it expects.
Library errors become domain errors here.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, TypeVar, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Notification

from hot.application.catalog import CATALOG
from hot.application.ports import HistoryRecorder
from hot.application.transcodings import TRANSCODINGS
from hot.application.views import (
    CommandResult,
    EventTypeInfo,
    HumanView,
    LogPage,
    MembershipView,
    RecordedEvent,
)
from hot.domain import (
    ConflictError,
    EmailClaim,
    EmailTakenError,
    Human,
    HumanExistsError,
    HumanKind,
    HumanNotFoundError,
    InvalidQueryError,
    VersionMismatchError,
    VersionNotFoundError,
)

T = TypeVar("T")

MAX_ATTEMPTS = 20
MAX_PAGE = 10_000


def utc_today() -> date:
    return datetime.now(UTC).date()


class HumansApplication(Application[UUID]):
    """The humans of Trantor: commands that record events, queries that read them."""

    name = "hot"
    snapshotting_intervals = {Human: 100}  # noqa: RUF012  (eventsourcing's class attribute)

    def __init__(self, env: dict[str, str] | None = None, today: Callable[[], date] = utc_today):
        super().__init__(env)
        self.today = today

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    # Commands ---------------------------------------------------------------------

    def register(
        self,
        name: str,
        email: str,
        kind: HumanKind,
        *,
        human_id: UUID | None = None,
        event_id: UUID | None = None,
    ) -> CommandResult:
        """Record a new human, claiming the email for them."""
        for _ in range(MAX_ATTEMPTS):
            if human_id is not None and self._exists(human_id):
                raise HumanExistsError(human_id)
            human = Human.register(name, email, kind, human_id=human_id, event_id=event_id)
            claim = self._claim(human.email, human.id)
            try:
                return self._save(human, claim)
            except IntegrityError:
                continue  # a racing registration: decide again on what it recorded
        raise ConflictError(human_id or human.id)

    def join(
        self,
        human_id: UUID,
        on: date,
        role: str,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
    ) -> CommandResult:
        return self._command(
            human_id, expected_version, lambda h: h.join(on, role, event_id=event_id)
        )

    def leave(
        self,
        human_id: UUID,
        on: date,
        reason: str | None = None,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
    ) -> CommandResult:
        return self._command(
            human_id, expected_version, lambda h: h.leave(on, reason, event_id=event_id)
        )

    def attend(
        self,
        human_id: UUID,
        on: date,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
    ) -> CommandResult:
        return self._command(
            human_id,
            expected_version,
            lambda h: h.attend(on, today=self.today(), event_id=event_id),
        )

    def change_details(
        self,
        human_id: UUID,
        name: str | None = None,
        email: str | None = None,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
    ) -> CommandResult:
        """Change name and/or email; a new email moves the uniqueness claim."""

        def decide(human: Human) -> list[EmailClaim]:
            old_email = human.email
            moves_claim = email is not None and human.email_changes_claim(email)
            human.change_details(name, email, event_id=event_id)
            if not moves_claim:
                return []
            old_claim = self._get(EmailClaim, EmailClaim.id_for(old_email))
            old_claim.release()
            return [self._claim(human.email, human.id), old_claim]

        return self._command(human_id, expected_version, decide)

    # Queries ----------------------------------------------------------------------

    def get_human(self, human_id: UUID, *, version: int | None = None) -> HumanView:
        """The human's state now, or at ``version``."""
        human = self._load(human_id, version)
        if version is not None and human.version != version:
            raise VersionNotFoundError(human_id, version)
        return _view(human)

    def get_human_as_of(self, human_id: UUID, instant: datetime) -> HumanView:
        """The human's state as it was recorded at ``instant`` (time travel)."""
        human: Human | None = None
        for event in cast(Any, self.events.get(human_id)):
            if event.timestamp > instant:
                break
            human = cast(Human | None, cast(Any, event).mutate(human))
        if human is None:
            raise HumanNotFoundError(human_id)
        return _view(human)

    def history(self, human_id: UUID, *, after: int = 0, limit: int = 100) -> list[RecordedEvent]:
        """The human's events with sequence > ``after``, oldest first."""
        limit = _checked_limit(limit)
        if after < 0:
            raise InvalidQueryError("after", "after must not be negative.")
        notifications = self._history_recorder.select_history(human_id, after, limit)
        if not notifications and not self._exists(human_id):
            raise HumanNotFoundError(human_id)
        return [self._recorded(n) for n in notifications]

    def read_log(self, *, after: int = 0, limit: int = 100, names: Sequence[str] = ()) -> LogPage:
        """A page of the global log after ``position``, optionally only some event names."""
        limit = _checked_limit(limit)
        if after < 0:
            raise InvalidQueryError("after", "after must not be negative.")
        unknown = [n for n in names if n not in CATALOG]
        if unknown:
            raise InvalidQueryError("name", f"Unknown event name(s): {', '.join(unknown)}.")
        notifications = self.recorder.select_notifications(
            start=after,
            limit=limit,
            topics=tuple(names) or CATALOG.names,
            inclusive_of_start=False,
        )
        events = tuple(self._recorded(n) for n in notifications)
        full = len(events) == limit
        return LogPage(events, events[-1].position if full else None)

    def catalog(self) -> list[EventTypeInfo]:
        return [t.info() for t in CATALOG]

    def head(self) -> int:
        """The position of the newest event in the log (0 when empty)."""
        return self.recorder.max_notification_id() or 0

    # Internals --------------------------------------------------------------------

    @property
    def _history_recorder(self) -> HistoryRecorder:
        return cast(HistoryRecorder, self.recorder)

    def _command(
        self,
        human_id: UUID,
        expected_version: int | None,
        decide: Callable[[Human], Sequence[BaseAggregate[UUID]] | None],
    ) -> CommandResult:
        for _ in range(MAX_ATTEMPTS):
            human = self._load(human_id)
            if expected_version is not None and human.version != expected_version:
                raise VersionMismatchError(expected_version, human.version)
            others = decide(human) or ()
            try:
                return self._save(human, *others)
            except IntegrityError:
                if expected_version is not None:
                    raise ConflictError(human_id) from None
        raise ConflictError(human_id)

    def _save(self, human: Human, *others: BaseAggregate[UUID]) -> CommandResult:
        recordings = self.save(human, *others)
        position = max(
            r.notification.id for r in recordings if r.domain_event.originator_id == human.id
        )
        return CommandResult(human.id, human.version, position)

    def _claim(self, email: str, holder: UUID) -> EmailClaim:
        try:
            claim = self._get(EmailClaim, EmailClaim.id_for(email))
        except AggregateNotFoundError:
            return EmailClaim.claim(email, holder)
        if claim.is_held:
            raise EmailTakenError(email)
        claim.reclaim(holder)
        return claim

    def _load(self, human_id: UUID, version: int | None = None) -> Human:
        try:
            return self._get(Human, human_id, version)
        except AggregateNotFoundError:
            raise HumanNotFoundError(human_id) from None

    def _get(self, cls: type[T], aggregate_id: UUID, version: int | None = None) -> T:
        aggregate: object = self.repository.get(aggregate_id, version=version)
        if not isinstance(aggregate, cls):
            raise AggregateNotFoundError(aggregate_id)
        return aggregate

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, desc=True, limit=1))

    def _recorded(self, notification: Notification) -> RecordedEvent:
        event = cast(Human.Event, self.mapper.to_domain_event(notification))
        event_type = CATALOG[notification.topic]
        return RecordedEvent(
            id=event.event_id,
            name=event_type.name,
            version=event_type.version,
            subject=event.originator_id,
            sequence=event.originator_version,
            position=notification.id,
            time=event.timestamp,
            payload=event_type.payload_of(event),
        )


def _checked_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_PAGE:
        raise InvalidQueryError("limit", f"limit must be between 1 and {MAX_PAGE}, not {limit}.")
    return limit


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
