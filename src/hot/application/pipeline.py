"""``CommandPipeline``: the one way every command goes, from its decision to its commit.

    run(command, conditions)                      within the application's deadline
      take the human's turn                       one command about a human decides at a
                                                  time in this process, in arrival order
      attempt, up to MAX_ATTEMPTS times:
        decide on the known state                 on the event loop, no I/O: when this
                                                  process knows every aggregate the command
                                                  reads
        or decide on fresh state                  in a worker thread, after looking up
                                                  whether the request was answered already
        commit                                    through the group committer, with the
                                                  request's idempotency records; answered
                                                  only after COMMIT
      decide again on fresh state after           a lost race (``IntegrityError``: also a
                                                  request answered before, whose record
                                                  the commit met), an ``If-Match`` the
                                                  known state does not meet, a rule refused
                                                  on the known state (a stale cache never
                                                  changes an answer), an aggregate not known

``If-Match`` is checked on the state decided on (``DecidingState``); an
``Idempotency-Key``'s record is committed with the command's events, in its transaction.
A request is not looked up before it is first decided: its record's id is the key's, so
if the request was answered before, the commit conflicts with that record, and the
request is decided again on fresh state, where the first answer is found and returned.
Retries are rare; every other request so saves a read of the store.

How each command ended goes to the pipeline's ``Meter`` (``hot.application.meter``), and
its span, started here and handed to the committer with its ``Commit``, is its
``Tracer``'s (``hot.application.tracing``); both do nothing unless the composition root
gives them.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from eventsourcing.persistence import IntegrityError

from hot.application.commands import Command, Decision
from hot.application.deciding import Conditions, DecidingState, NotKnownError, Store
from hot.application.errors import DeadlineExceededError
from hot.application.group_commit import Commit, GroupCommitter
from hot.application.idempotency import IdempotencyRecord
from hot.application.meter import ACCEPTED, NO_METER, REPEATED, Meter, command_name, outcome_of
from hot.application.personal import PersonalKey
from hot.application.threads import WorkerThreads
from hot.application.tracing import NO_TRACER, CommandSpan, Tracer
from hot.application.views import CommandResult
from hot.domain import ConflictError, DomainError
from hot.tuning import MAX_ATTEMPTS


class NewPersonalKeys(Protocol):
    """The personal-data keys of new humans, held until committed with their events."""

    def new_key(self, human_id: UUID) -> bytes: ...

    def settle(self, human_id: UUID) -> None: ...

    def forget_cached(self, human_id: UUID) -> None: ...


@dataclass
class Decisions:
    """How commands were decided, counted since the start: on the known state (on the
    event loop), on fresh state (in a worker thread), and the races lost at commit."""

    known: int = 0
    fresh: int = 0
    lost_races: int = 0


class CommandPipeline:
    """Runs commands over ``store``, committing through ``committer``."""

    def __init__(
        self,
        store: Store,
        committer: GroupCommitter,
        threads: WorkerThreads,
        personal_keys: NewPersonalKeys,
    ) -> None:
        self._store = store
        self._committer = committer
        self._threads = threads
        self._personal_keys = personal_keys
        self._turns = _Turns()
        self.decisions = Decisions()
        self.meter: Meter = NO_METER  # told how each command ended (``hot.application.meter``)
        self.tracer: Tracer = NO_TRACER  # its spans (``hot.application.tracing``)

    async def run(self, command: Command, conditions: Conditions) -> CommandResult:
        """Decide ``command`` and commit what it changed; its result, after COMMIT."""
        started = time.perf_counter()
        name = command_name(type(command))
        span = self.tracer.command(name, command.subject)
        try:
            try:
                async with asyncio.timeout(self._threads.deadline), self._turns.of(command.subject):
                    result = await self._attempts(command, conditions, span)
            except TimeoutError:
                deadline = self._threads.deadline
                raise DeadlineExceededError(f"no answer within {deadline} s") from None
        except Exception as error:
            outcome = outcome_of(error)
            self.meter.command(name, outcome, time.perf_counter() - started)
            span.end(outcome, error)
            raise
        outcome = REPEATED if result.already_recorded else ACCEPTED
        self.meter.command(name, outcome, time.perf_counter() - started)
        span.end(outcome)
        return result

    async def _attempts(
        self, command: Command, conditions: Conditions, span: CommandSpan
    ) -> CommandResult:
        fresh = False  # an answered request is found after its commit conflicts (see above)
        subject = command.subject
        for _ in range(MAX_ATTEMPTS):
            if fresh:
                self.decisions.fresh += 1
                decided = await self._threads.run(self._decide_fresh, command, conditions)
            else:
                self.decisions.known += 1
                try:
                    decided = command.decide(DecidingState(self._store, conditions, command))
                except (NotKnownError, DomainError):
                    fresh = True
                    continue
            if isinstance(decided, CommandResult):
                return decided
            subject = decided.subject.id
            try:
                return await self._commit(decided, conditions, span)
            except IntegrityError:
                self.decisions.lost_races += 1
                self.meter.race_lost(command_name(type(command)))
                fresh = True  # lost a race: decide again on what the winner recorded
        raise ConflictError(subject)  # type: ignore[arg-type]  # set by the first decision

    def _decide_fresh(self, command: Command, conditions: Conditions) -> Decision | CommandResult:
        """In a worker thread: the first answer to this request if it was recorded, else the
        command decided on fresh state."""
        answered = self._store.answered(conditions.idempotency_keys)
        if answered is not None:
            return answered
        try:
            return command.decide(DecidingState(self._store, conditions, command, fresh=True))
        except DomainError:
            # Refused: unless this very request committed meanwhile (a retry racing its
            # first attempt), whose answer wins over the refusal.
            answered = self._store.answered(conditions.idempotency_keys)
            if answered is not None:
                return answered
            raise

    async def _commit(
        self, decision: Decision, conditions: Conditions, span: CommandSpan
    ) -> CommandResult:
        human = decision.subject
        records = [
            IdempotencyRecord.of(key, human.id, human.version)
            for key in conditions.idempotency_keys
        ]
        aggregates = (human, *decision.others)
        new_personal_keys = (
            [PersonalKey(human.id, self._personal_keys.new_key(human.id))]
            if decision.new_human
            else []
        )
        destroyed = [human.id] if decision.forgets else []
        try:
            commit = Commit(aggregates, new_personal_keys, destroyed, records, span.context)
            written = await self._committer.commit(commit)
        finally:
            if new_personal_keys:
                self._personal_keys.settle(human.id)
        if decision.forgets:
            self._personal_keys.forget_cached(human.id)
        position = max(w.position for w in written if w.event.originator_id == human.id)
        span.committed(human.id, position)
        return CommandResult(human.id, human.version, position)


@dataclass
class _Turn:
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class _Turns:
    """Commands about one human take turns on each event loop, in the order they came:
    they do not fight over its next version (only other processes' writes still can)."""

    def __init__(self) -> None:
        self._turns: dict[tuple[asyncio.AbstractEventLoop, UUID], _Turn] = {}

    @contextlib.asynccontextmanager
    async def of(self, subject: UUID | None) -> AsyncIterator[None]:
        if subject is None:
            yield
            return
        key = (asyncio.get_running_loop(), subject)
        turn = self._turns.get(key)
        if turn is None:
            turn = self._turns[key] = _Turn()
        turn.users += 1
        try:
            async with turn.lock:
                yield
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[key]
