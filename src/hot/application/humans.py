"""``HumansApplication``: one method per use case, over the ``eventsourcing`` store.

Every command method builds its command (``hot.application.commands``) and runs it
through the one ``CommandPipeline``: decided on the state this process knows, or on
fresh state, committed through the ``GroupCommitter``, decided again after a lost race.
Queries are in ``HumanQueries``, the open catalog's use cases in ``TeamCatalog``. Use
cases are coroutines; what blocks on PostgreSQL runs in the application's own worker
threads, within its deadline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any, cast
from uuid import UUID

from eventsourcing.persistence import JSONTranscoder, Mapper, StoredEvent

from hot.application.catalog_commands import PayloadValidators
from hot.application.commands import (
    Attend,
    ChangeDetails,
    Command,
    Forget,
    Join,
    Leave,
    Register,
    SetExternalId,
)
from hot.application.deciding import Conditions
from hot.application.decoding import Row
from hot.application.envelopes import Envelope, command_of
from hot.application.group_commit import CommittedBatch, GroupCommitter
from hot.application.head import LogHead
from hot.application.idempotency import IdempotencyKey, IdempotencyRecord
from hot.application.ids import RandomIds
from hot.application.known import KnownState
from hot.application.meter import Meter
from hot.application.personal import PersonalDataMapper, PersonalKey, PersonalKeyStore
from hot.application.pipeline import CommandPipeline
from hot.application.ports import EventWriter, Saved
from hot.application.queries import Reads
from hot.application.snapshots import SnapshotWriter
from hot.application.team_catalog import TeamCatalog
from hot.application.team_storage import TeamEventsMapper
from hot.application.threads import WorkerThreads
from hot.application.tracing import Tracer
from hot.application.transcodings import TRANSCODINGS
from hot.application.views import CommandResult
from hot.domain import Human, HumanKind
from hot.tuning import (
    DEADLINE_SECONDS,
    IDS_DRAWN_AT_ONCE,
    KNOWN_AGGREGATES,
    MAX_BATCH,
    SEEN_AGGREGATES,
    SNAPSHOT_INTERVAL,
    WORKER_THREADS,
)

IdempotencyKeys = IdempotencyKey | Sequence[IdempotencyKey] | None
CommitListener = Callable[[CommittedBatch], None]


def utc_today() -> date:
    return datetime.now(UTC).date()


class HumansApplication(TeamCatalog):
    """The humans of Trantor: commands that record events, queries that read them.

    ``max_batch`` is how many commands a transaction takes at most (1: one transaction
    per command, a benchmark's baseline); ``deadline``: seconds a use case may take
    before it answers ``DeadlineExceededError``.
    """

    name = "hot"
    is_snapshotting_enabled = True

    def __init__(
        self,
        env: dict[str, str] | None = None,
        *,
        today: Callable[[], date] = utc_today,
        personal_keys: PersonalKeyStore,
        claim_secret: bytes,
        seal_personal_data: bool = True,
        max_batch: int = MAX_BATCH,
        deadline: float = DEADLINE_SECONDS,
    ) -> None:
        self.personal_keys = personal_keys  # read by construct_mapper, during __init__
        self.claim_secret = claim_secret
        self.payload_validators = PayloadValidators()
        self.seals_personal_data = seal_personal_data
        super().__init__(env)
        self.today = today
        self.new_id = RandomIds(IDS_DRAWN_AT_ONCE)
        self.known = KnownState(
            self._domain_event, limit=KNOWN_AGGREGATES, seen_limit=SEEN_AGGREGATES
        )
        self._threads = WorkerThreads(WORKER_THREADS, deadline)
        self._head = LogHead(self.head_now, self._threads)
        self.reads = Reads()  # how reads of current state were answered: tests, metrics
        self._listeners: list[CommitListener] = []
        self._snapshot_writer = SnapshotWriter(cast(Any, self.snapshots).put, self.take_snapshot)
        self._committer = GroupCommitter(self._save, self._after_commit, max_batch)
        self._commands = CommandPipeline(self, self._committer, self._threads, personal_keys)
        self.decisions = self._commands.decisions  # how commands were decided: tests, metrics

    def construct_mapper(self) -> Mapper[UUID]:
        if not self.seals_personal_data:  # only to measure what sealing costs
            return TeamEventsMapper(self.construct_transcoder())
        return PersonalDataMapper(self.construct_transcoder(), self.personal_keys)

    def register_transcodings(self, transcoder: JSONTranscoder) -> None:
        super().register_transcodings(transcoder)
        for transcoding in TRANSCODINGS:
            transcoder.register(transcoding)

    def tell_commits(self, listener: CommitListener) -> Callable[[], None]:
        """Have ``listener`` told of each committed transaction, in the committer's thread
        (the streams' write-through); what stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def measure_with(self, meter: Meter) -> None:
        """Tell ``meter`` how each command ends and of each transaction (metrics)."""
        self._commands.meter = meter
        self._committer.meter = meter

    def trace_with(self, tracer: Tracer) -> None:
        """Have ``tracer`` make the spans of each command and transaction (traces)."""
        self._commands.tracer = tracer
        self._committer.tracer = tracer

    @property
    def commit_listeners(self) -> tuple[CommitListener, ...]:
        """Who is told of each committed transaction."""
        return tuple(self._listeners)

    def close(self) -> None:
        self._committer.close()
        self._snapshot_writer.close()  # what the last commits snapshotted, written
        self._threads.close()
        close_recorder = getattr(self.recorder, "close", None)  # HoT's keeps a connection
        if close_recorder is not None:
            close_recorder()
        super().close()
        self.personal_keys.close()  # its listening connection and thread

    # Commands ---------------------------------------------------------------------

    async def register(
        self,
        name: str,
        email: str,
        kind: HumanKind,
        *,
        human_id: UUID | None = None,
        event_id: UUID | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Record a new human, claiming the email for them."""
        command = Register(name, email, kind, human_id, event_id)
        return await self._run(command, None, idempotency)

    async def join(
        self,
        human_id: UUID,
        on: date,
        role: str,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Start a membership on ``on``, in ``role``."""
        command = Join(human_id, on, role, event_id)
        return await self._run(command, expected_version, idempotency)

    async def leave(
        self,
        human_id: UUID,
        on: date,
        reason: str | None = None,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """End the current membership; ``on`` is its last day."""
        command = Leave(human_id, on, reason, event_id)
        return await self._run(command, expected_version, idempotency)

    async def attend(
        self,
        human_id: UUID,
        on: date,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Record that the human attended on the day ``on``."""
        command = Attend(human_id, on, event_id)
        return await self._run(command, expected_version, idempotency)

    async def change_details(
        self,
        human_id: UUID,
        name: str | None = None,
        email: str | None = None,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Change name and/or email; a new email moves the uniqueness claim."""
        command = ChangeDetails(human_id, name, email, event_id)
        return await self._run(command, expected_version, idempotency)

    async def set_external_id(
        self,
        human_id: UUID,
        scheme: str,
        value: str,
        *,
        expected_version: int | None = None,
        event_id: UUID | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Set the human's id in ``scheme``; the value is unique within the scheme."""
        command = SetExternalId(human_id, scheme, value, event_id)
        return await self._run(command, expected_version, idempotency)

    async def forget(
        self,
        human_id: UUID,
        *,
        by: str,
        expected_version: int | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Forget the human: their key destroyed in the transaction that records
        ``HUMAN_FORGOTTEN`` (``by`` who asked), their email and external ids freed."""
        return await self._run(Forget(human_id, by), expected_version, idempotency)

    async def record(
        self,
        envelope: Envelope,
        *,
        expected_version: int | None = None,
        idempotency: IdempotencyKeys = None,
    ) -> CommandResult:
        """Record a client's event envelope by the same rules as the typed commands; the
        envelope's id is the event's, and names the request (posted twice, recorded once)."""
        given = Conditions.of(expected_version, idempotency).idempotency_keys
        return await self._run(
            command_of(envelope), expected_version, (envelope.idempotency_key, *given)
        )

    async def _run(
        self, command: Command, expected_version: int | None, idempotency: IdempotencyKeys
    ) -> CommandResult:
        return await self._commands.run(command, Conditions.of(expected_version, idempotency))

    # The store, as the pipeline reads it (blocking: in worker threads) ---------------

    def exists(self, aggregate_id: UUID) -> bool:
        return bool(self.recorder.select_events(aggregate_id, limit=1))

    def answered(self, idempotency_keys: Sequence[IdempotencyKey]) -> CommandResult | None:
        """The first answer to the request ``idempotency_keys`` name, if it was recorded (each
        other key unused, or naming the same request)."""
        if not idempotency_keys:
            return None
        writer = cast(EventWriter, self.recorder)
        records = writer.idempotency_records([key.record_id for key in idempotency_keys])
        answers = [
            records[key.record_id].answer_for(key)  # each key used names this request
            for key in idempotency_keys
            if key.record_id in records
        ]
        if not answers:
            return None
        human_id, version = answers[0]
        recorded = self._history(human_id, version - 1, 1)
        position = recorded[0].position if recorded else 0
        return CommandResult(human_id, version, position, already_recorded=True)

    # Committing (in the committer's thread) -------------------------------------------

    def _save(
        self,
        events: Sequence[Any],
        new_personal_keys: Sequence[PersonalKey],
        destroyed: Sequence[UUID],
        idempotency_records: Sequence[IdempotencyRecord],
    ) -> Saved:
        stored = cast(TeamEventsMapper, self.mapper).to_stored_events(events)
        return cast(EventWriter, self.recorder).write(
            stored,
            new_personal_keys=new_personal_keys,
            destroyed_personal_keys=destroyed,
            idempotency_records=idempotency_records,
            public_before=bool(self._listeners),
        )

    def _domain_event(self, row: Row) -> Any:
        """The domain event a row of the events table holds (as the mapper decodes it)."""
        return self.mapper.to_domain_event(
            StoredEvent(row.subject, row.sequence, row.name, row.state)
        )

    def _after_commit(self, batch: CommittedBatch) -> None:
        # Known at once, in the committer's thread: before the commit's notification
        # reaches the known state, which then has nothing to decode.
        self.known.remember(batch.aggregates)
        self._snapshot_after_commit(batch)
        for listener in self._listeners:
            listener(batch)

    def _snapshot_after_commit(self, batch: CommittedBatch) -> None:
        """Snapshot a human every ``SNAPSHOT_INTERVAL`` versions, from the state in hand
        (a cached human is never changed again: loads copy it); written by the
        ``SnapshotWriter``'s thread, not this one."""
        in_hand = {a.id: a for a in batch.aggregates if isinstance(a, Human)}
        taken, retaken = [], []
        for written in batch.written:
            event = written.event
            if isinstance(event, Human.Event) and event.originator_version % SNAPSHOT_INTERVAL == 0:
                human = in_hand.get(event.originator_id)
                if human is not None and human.version == event.originator_version:
                    taken.append(Human.Snapshot.take(human))
                else:
                    retaken.append((event.originator_id, event.originator_version))
        if taken or retaken:
            self._snapshot_writer.submit(taken, retaken)
