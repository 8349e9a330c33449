"""``HumansApplication``: one method per command, over the ``eventsourcing`` store.

A command loads the human, asks it to decide (raising a named error if a rule
forbids it), and commits the human's new events together with the email claims it
moves and its idempotency records, in one transaction. A command that loses a race
to another write of the same human is decided again on the new state; with an
``expected_version`` that new state fails the version check instead. Commits go
through a ``GroupCommitter`` so that concurrent commands share transactions.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, JSONTranscoder, Mapper, Recording

from hot.application.envelopes import REGISTRATION, Envelope, checked
from hot.application.group_commit import GroupCommitter
from hot.application.idempotency import Idempotency, IdempotencyRecord
from hot.application.loop_commands import LoopCommands, result_of
from hot.application.personal import PersonalDataMapper, PersonalKeys
from hot.application.queries import HumanQueries
from hot.application.transcodings import TRANSCODINGS
from hot.application.views import CommandResult
from hot.domain import (
    ConflictError,
    DomainError,
    EmailClaim,
    EmailTakenError,
    Human,
    HumanExistsError,
    HumanKind,
    VersionMismatchError,
)

MAX_ATTEMPTS = 25
SNAPSHOT_INTERVAL = 100
DECIDERS = 8
TURN_STRIPES = 1024

Keys = Idempotency | Sequence[Idempotency] | None
Decision = tuple[Human, Sequence[BaseAggregate[UUID]]]


def utc_today() -> date:
    return datetime.now(UTC).date()


class HumansApplication(HumanQueries):
    """The humans of Trantor: commands that record events, queries that read them."""

    name = "hot"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        today: Callable[[], date] = utc_today,
        group_commit: bool = True,
        personal_keys: PersonalKeys,
        claim_secret: bytes,
        seal_personal_data: bool = True,
    ) -> None:
        self.personal_keys = personal_keys  # read by construct_mapper, during __init__
        self.claim_secret = claim_secret
        self.seals_personal_data = seal_personal_data
        super().__init__(env)
        self.today = today
        # Few threads decide at once: the rest wait off the GIL, so the committer is not starved.
        self._deciding = threading.BoundedSemaphore(DECIDERS)
        self._turns = [threading.Lock() for _ in range(TURN_STRIPES)]
        self._committer = (
            GroupCommitter(self._put, self._snapshot_after_commit) if group_commit else None
        )
        self.on_loop = (  # the event-loop path of attend, join and leave (group commit only)
            LoopCommands(self.repository.cache, self._committer, self.today, self._remember)
            if self._committer is not None and self.repository.cache is not None
            else None
        )

    def construct_mapper(self) -> Mapper[UUID]:
        if not self.seals_personal_data:  # only to measure what sealing costs
            return Mapper(self.construct_transcoder())
        return PersonalDataMapper(self.construct_transcoder(), self.personal_keys)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    def commands_waiting(self) -> bool:
        """Whether commands wait for their transaction behind the one committing now."""
        return self._committer is not None and self._committer.waiting()

    def close(self) -> None:
        if self._committer is not None:
            self._committer.close()
        close_recorder = getattr(self.recorder, "close", None)  # HoT's keeps a connection
        if close_recorder is not None:
            close_recorder()
        super().close()
        close_keys = getattr(self.personal_keys, "close", None)
        if close_keys is not None:
            close_keys()  # its listening connection and thread

    # Commands ---------------------------------------------------------------------

    def register(
        self,
        name: str,
        email: str,
        kind: HumanKind,
        *,
        human_id: UUID | None = None,
        event_id: UUID | None = None,
        idempotency: Keys = None,
    ) -> CommandResult:
        """Record a new human, claiming the email for them."""

        def decide(fresh: bool) -> Decision:
            if human_id is not None and self._exists(human_id):
                raise HumanExistsError(human_id)
            human = Human.register(name, email, kind, human_id=human_id, event_id=event_id)
            self.personal_keys.new_key(human.id)  # committed with the events
            return human, [self._claim(human.email, human.id, fresh)]

        return self._execute(decide, human_id, idempotency)

    def join(
        self,
        human_id: UUID,
        on: date,
        role: str,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: Keys = None,
    ) -> CommandResult:
        return self._change(
            human_id,
            expected_version,
            idempotency,
            lambda h, _: h.join(on, role, event_id=event_id),
        )

    def leave(
        self,
        human_id: UUID,
        on: date,
        reason: str | None = None,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: Keys = None,
    ) -> CommandResult:
        return self._change(
            human_id,
            expected_version,
            idempotency,
            lambda h, _: h.leave(on, reason, event_id=event_id),
        )

    def attend(
        self,
        human_id: UUID,
        on: date,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: Keys = None,
    ) -> CommandResult:
        return self._change(
            human_id,
            expected_version,
            idempotency,
            lambda h, _: h.attend(on, today=self.today(), event_id=event_id),
        )

    def change_details(
        self,
        human_id: UUID,
        name: str | None = None,
        email: str | None = None,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: Keys = None,
    ) -> CommandResult:
        """Change name and/or email; a new email moves the uniqueness claim."""

        def decide(human: Human, fresh: bool) -> Sequence[EmailClaim]:
            moved: list[EmailClaim] = []
            if email is not None and human.email_changes_claim(email):
                moved.append(self._claim(email, human.id, fresh))
                moved.extend(self._released(human.email, fresh))
            human.change_details(name, email, event_id=event_id)
            return moved

        return self._change(human_id, expected_version, idempotency, decide)

    def forget(
        self,
        human_id: UUID,
        *,
        by: str,
        expected_version: int | None = None,
        idempotency: Keys = None,
    ) -> CommandResult:
        """Forget the human: destroy their key, record who did it, free their email.

        The key is destroyed in the same transaction that records ``HUMAN_FORGOTTEN``
        and the idempotency records: either all happen or none does. The
        ``expected_version`` is checked on the state the forgetting is decided on, and
        the commit takes the next version slot: a write that lands in between makes it
        decide again, on the new state (so fail the check).
        """
        keys = _keys(idempotency)
        with self._turn_of(human_id):
            for _ in range(MAX_ATTEMPTS):
                answered = self._answered(keys)
                if answered is not None:
                    return answered
                try:
                    human = self._load(human_id)
                    if expected_version is not None and human.version != expected_version:
                        raise VersionMismatchError(expected_version, human.version)
                    claims = self._released(human.email, fresh=True)
                    human.forget(by)
                except DomainError:
                    # Refused: unless this very request committed meanwhile (a retry
                    # racing its first attempt), whose answer wins over the refusal.
                    answered = self._answered(keys)
                    if answered is not None:
                        return answered
                    raise
                records = [IdempotencyRecord.record(k, human.id, human.version) for k in keys]
                events = [e for a in (human, *claims, *records) for e in a.collect_events()]
                try:
                    recordings = self.save(*events, destroy_personal_keys=(human_id,))
                except IntegrityError:
                    continue
                self.personal_keys.forget_cached(human_id)
                self._remember((human, *claims))
                return result_of(human, recordings)
        raise ConflictError(human_id)

    def record(
        self, envelope: Envelope, *, expected_version: int | None = None, idempotency: Keys = None
    ) -> CommandResult:
        """Record a client's event envelope by the same rules as the typed commands."""
        subject = checked(envelope)
        keys = (envelope.idempotency, *_keys(idempotency))
        fields: dict[str, Any] = subject.payload.model_dump()
        if envelope.name == REGISTRATION:
            return self.register(
                human_id=subject.human_id, event_id=envelope.id, idempotency=keys, **fields
            )
        commands: dict[str, Callable[..., CommandResult]] = {
            "HUMAN_JOINED": self.join,
            "HUMAN_LEFT": self.leave,
            "HUMAN_ATTENDED": self.attend,
            "HUMAN_DETAILS_CHANGED": self.change_details,
        }
        return commands[envelope.name](
            subject.human_id,
            expected_version=expected_version,
            event_id=envelope.id,
            idempotency=keys,
            **fields,
        )

    # The command cycle ----------------------------------------------------------------
    #
    # A first attempt decides on the state this process last knew, with no query. If
    # that state was stale, the commit conflicts (the version slot is taken) and the
    # next attempt decides on fresh state; a rejection is also confirmed on fresh state,
    # so a stale cache can cost an attempt but never changes an answer.

    def _change(
        self,
        human_id: UUID,
        expected_version: int | None,
        idempotency: Keys,
        decide: Callable[[Human, bool], Sequence[BaseAggregate[UUID]] | None],
    ) -> CommandResult:
        def load_and_decide(fresh: bool) -> Decision:
            human = self._load(human_id, fresh=fresh)
            if expected_version is not None and human.version != expected_version:
                if not fresh:
                    raise _StaleStateError()
                raise VersionMismatchError(expected_version, human.version)
            return human, decide(human, fresh) or ()

        return self._execute(load_and_decide, human_id, idempotency)

    def _execute(
        self, decide: Callable[[bool], Decision], human_id: UUID | None, idempotency: Keys
    ) -> CommandResult:
        # Commands on one human take turns in this process, so they do not fight over
        # its next version; only writes from other processes can still conflict.
        with self._turn_of(human_id):
            return self._attempt(decide, human_id, _keys(idempotency))

    def _attempt(
        self, decide: Callable[[bool], Decision], human_id: UUID | None, keys: Sequence[Idempotency]
    ) -> CommandResult:
        fresh = False
        for _ in range(MAX_ATTEMPTS):
            answered = self._answered(keys)
            if answered is not None:
                return answered
            try:
                with self._deciding:
                    human, others = decide(fresh)
            except (_StaleStateError, DomainError):
                if fresh:
                    raise
                fresh = True
                continue
            records = [IdempotencyRecord.record(k, human.id, human.version) for k in keys]
            try:
                return self._commit(human, *others, *records)
            except IntegrityError:
                fresh = True  # lost a race: decide again on what the winner recorded
        raise ConflictError(human_id or human.id)

    def _turn_of(self, human_id: UUID | None) -> contextlib.AbstractContextManager[Any]:
        if human_id is None:
            return contextlib.nullcontext()
        return self._turns[hash(human_id) % len(self._turns)]

    def _commit(self, human: Human, *others: BaseAggregate[UUID]) -> CommandResult:
        aggregates = (human, *others)
        events = [e for a in aggregates for e in a.collect_events()]
        new_keys = self.personal_keys.uncommitted(human.id) if human.version == 1 else []
        try:
            if self._committer is not None:
                recordings = self._committer.commit(events, new_keys, aggregates)
            else:
                recordings = self.save(*events, new_personal_keys=new_keys)
                self._snapshot_after_commit(recordings, aggregates)
        finally:
            if new_keys:
                self.personal_keys.settle(human.id)
        self._remember(aggregates)
        return result_of(human, recordings)

    def _put(self, *events: Any, **kwargs: Any) -> list[Recording[UUID]]:
        """``save`` of events alone (no aggregates, so nothing to cache or snapshot there):
        straight to the event store, without the library's per-event protocol checks."""
        return self.events.put(events, **kwargs)

    def _remember(self, aggregates: Sequence[BaseAggregate[UUID]]) -> None:
        """Keep what was just committed as this process's known state."""
        cache = self.repository.cache
        if cache is None:
            return
        for aggregate in aggregates:
            try:
                known = cache.get(aggregate.id)
            except KeyError:
                known = None
            if known is None or known.version < aggregate.version:
                cache.put(aggregate.id, aggregate)

    def _answered(self, keys: Sequence[Idempotency]) -> CommandResult | None:
        """The first answer to this request, if a key shows it was already recorded."""
        for key in keys:
            try:
                record = self._get(IdempotencyRecord, key.record_id, fresh=False)
            except AggregateNotFoundError:
                continue
            human_id, version = record.answer_for(key)
            for other in keys:
                if other is not key:
                    self._check_unused_or_same(other)
            recorded = self._history(human_id, version - 1, 1)
            return CommandResult(human_id, version, recorded[0].position if recorded else 0)
        return None

    def _check_unused_or_same(self, key: Idempotency) -> None:
        with contextlib.suppress(AggregateNotFoundError):
            self._get(IdempotencyRecord, key.record_id, fresh=False).answer_for(key)

    def _claim(self, email: str, holder: UUID, fresh: bool) -> EmailClaim:
        try:
            claim = self._get(EmailClaim, EmailClaim.id_for(email, self.claim_secret), fresh=fresh)
        except AggregateNotFoundError:
            return EmailClaim.claim(email, holder, self.claim_secret)
        if claim.is_held:
            raise EmailTakenError(email)
        claim.reclaim(holder)
        return claim

    def _released(self, email: str, fresh: bool) -> list[EmailClaim]:
        try:
            claim = self._get(EmailClaim, EmailClaim.id_for(email, self.claim_secret), fresh=fresh)
        except AggregateNotFoundError:
            return []
        claim.release()
        return [claim]

    def _exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def _snapshot_after_commit(
        self, recordings: list[Recording[UUID]], aggregates: Sequence[BaseAggregate[UUID]]
    ) -> None:
        """Snapshot a human every ``SNAPSHOT_INTERVAL`` versions, from the state in hand."""
        in_hand = {a.id: a for a in aggregates if isinstance(a, Human)}
        for recording in recordings:
            event = recording.domain_event
            if isinstance(event, Human.Event) and event.originator_version % SNAPSHOT_INTERVAL == 0:
                human = in_hand.get(event.originator_id)
                if human is not None and human.version == event.originator_version:
                    cast(Any, self.snapshots).put([Human.Snapshot.take(human)])
                else:
                    self.take_snapshot(event.originator_id, version=event.originator_version)


class _StaleStateError(Exception):
    """The known state cannot answer this command (e.g. an If-Match ahead of it)."""


def _keys(idempotency: Keys) -> tuple[Idempotency, ...]:
    if idempotency is None:
        return ()
    if isinstance(idempotency, Idempotency):
        return (idempotency,)
    return tuple(idempotency)
