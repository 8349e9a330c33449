"""Group commit: the events of concurrent commands saved together, one transaction a batch.

The ``eventsourcing`` PostgreSQL recorder serialises writers with a table lock, so one
transaction per command caps throughput near a thousand commands a second. Here the
command pipeline hands each command's ``Commit`` to one committer thread and awaits a
future; the thread saves whatever has queued up as one batch. Under light load a
batch is a single command, so latency stays that of one save. One command's conflict
never fails the others: commands that clash inside a batch are refused before saving,
and if the batch clashes with a write from elsewhere, each command is saved on its own.

What an event loop hands in during one turn of it reaches the committer together (one
wake-up of the committer thread per turn, not per command), and each loop is woken
once per batch. After each commit, and before its commands are answered, ``committed``
is told what was written, where, and whether commands were waiting meanwhile
(snapshots, the streams' write-through). A transaction's span (``Tracer.transaction``,
over the spans its commands carry in) covers its save and that after-commit work.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from uuid import UUID

from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError

from hot.application.idempotency import IdempotencyRecord
from hot.application.meter import NO_METER, Meter
from hot.application.personal import PersonalKey
from hot.application.ports import Saved
from hot.application.tracing import NO_TRACER, Tracer, TransactionSpan

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Commit:
    """What one command commits: the new events of its ``aggregates`` (their state after
    them), the keys of new humans to keep, the keys of forgotten humans to destroy, the
    request's idempotency records, and the command's span (``hot.application.tracing``;
    None: not traced)."""

    aggregates: Sequence[BaseAggregate[UUID]]
    new_personal_keys: Sequence[PersonalKey] = ()
    destroyed_personal_keys: Sequence[UUID] = ()
    idempotency_records: Sequence[IdempotencyRecord] = ()
    trace: Any = None


class Written(NamedTuple):
    """A committed event and its position in the log."""

    event: Any
    position: int


@dataclass(frozen=True)
class CommittedBatch:
    """One committed transaction: its events in log order, the aggregates they changed
    (their state after them), the position of the last public event before it, and
    whether commands were queued for the next transaction when it committed."""

    written: list[Written]
    aggregates: list[BaseAggregate[UUID]]
    before: int
    waiting: bool


Save = Callable[
    [Sequence[Any], Sequence[PersonalKey], Sequence[UUID], Sequence[IdempotencyRecord]], Saved
]
Committed = Callable[[CommittedBatch], None]


@dataclass
class _Pending:
    commit: Commit
    events: list[Any]
    future: asyncio.Future[list[Written]]
    written: list[Written] = field(default_factory=list)
    error: BaseException | None = None

    @property
    def slots(self) -> set[tuple[UUID, int]]:
        """What the commit takes: its aggregates' versions, and its idempotency records'
        ids (as version 0: their ids are of a namespace of their own)."""
        slots = {(e.originator_id, e.originator_version) for e in self.events}
        return slots | {(r.id, 0) for r in self.commit.idempotency_records}

    def settle(self) -> None:
        """Hand the outcome to the waiting future (on its loop's thread)."""
        if self.future.done():  # the caller gave up at its deadline
            return
        if self.error is not None:
            self.future.set_exception(self.error)
        else:
            self.future.set_result(self.written)


class GroupCommitter:
    """Saves the commits handed in from event loops, batching those that arrive together."""

    def __init__(self, save: Save, committed: Committed, max_batch: int) -> None:
        self._save = save
        self._committed = committed
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[list[_Pending] | None] = queue.SimpleQueue()
        self._held: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}  # this turn's
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.meter: Meter = NO_METER  # told of each transaction (``hot.application.meter``)
        self.tracer: Tracer = NO_TRACER  # its spans (``hot.application.tracing``)

    def commit(self, commit: Commit) -> asyncio.Future[list[Written]]:
        """Save ``commit`` in a transaction shared with others: a future of its events,
        written in order (``IntegrityError`` if another write took a version first)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Written]] = loop.create_future()
        events = [e for a in commit.aggregates for e in a.collect_events()]
        self._ensure_running()
        held = self._held.get(loop)
        if held is None:
            held = self._held[loop] = []
            loop.call_soon(self._hand_over, loop)  # once this turn's commands are in
        held.append(_Pending(commit, events, future))
        return future

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._thread = None

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._queue.put(self._held.pop(loop))

    def _ensure_running(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="hot-group-commit", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        pending: list[_Pending] = []  # handed over, not yet in a batch
        stopping = False
        while pending or not stopping:
            if not pending:
                first = self._queue.get()
                if first is None:
                    return
                pending = list(first)
            while len(pending) < self._max_batch and not stopping:
                try:
                    items = self._queue.get_nowait()
                except queue.Empty:
                    break
                if items is None:
                    stopping = True  # stop once what was handed over is committed
                    break
                pending.extend(items)
            batch, pending = pending[: self._max_batch], pending[self._max_batch :]
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Pending]) -> None:
        accepted = _without_clashes(batch)
        if len(accepted) < len(batch):
            _announce([item for item in batch if item.error is not None])
        if not accepted:
            return
        with self.tracer.transaction([item.commit.trace for item in accepted]) as span:
            self._commit_accepted(accepted, span)

    def _commit_accepted(self, accepted: list[_Pending], span: TransactionSpan) -> None:
        started = time.perf_counter()
        try:
            saved = self._save(
                [e for item in accepted for e in item.events],
                [k for item in accepted for k in item.commit.new_personal_keys],
                [h for item in accepted for h in item.commit.destroyed_personal_keys],
                [r for item in accepted for r in item.commit.idempotency_records],
            )
        except IntegrityError:
            if len(accepted) == 1:
                accepted[0].error = IntegrityError("another write committed first")
                _announce(accepted)
                return
            for item in accepted:  # a write from elsewhere: save each alone
                self._commit_batch([item])
            return
        except BaseException as error:  # the database is down: every caller hears why
            for item in accepted:
                item.error = error
            _announce(accepted)
            return
        self.meter.transaction(len(accepted), time.perf_counter() - started)
        if saved.positions:
            span.committed(saved.positions[0], saved.positions[-1])
        positions = iter(saved.positions)
        for item in accepted:
            item.written = [Written(e, next(positions)) for e in item.events]
        self._tell(accepted, saved.before)  # first: a command is answered after it
        _announce(accepted)

    def _tell(self, accepted: list[_Pending], before: int) -> None:
        """Tell ``committed`` of the transaction; the commit stands whatever it does."""
        batch = CommittedBatch(
            [w for item in accepted for w in item.written],
            [a for item in accepted for a in item.commit.aggregates],
            before,
            waiting=not self._queue.empty(),
        )
        try:
            self._committed(batch)
        except Exception:
            log.exception("after-commit work failed (the commit itself stands)")


def _without_clashes(batch: list[_Pending]) -> list[_Pending]:
    """Refuse a command that writes an aggregate version an earlier one in the batch writes."""
    taken: set[tuple[UUID, int]] = set()
    accepted: list[_Pending] = []
    for item in batch:
        slots = item.slots
        if slots & taken:
            item.error = IntegrityError("another command in the batch wrote first")
            continue
        taken |= slots
        accepted.append(item)
    return accepted


def _announce(items: list[_Pending]) -> None:
    """Wake the callers of ``items``: each event loop once for all of its own."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for item in items:
        by_loop.setdefault(item.future.get_loop(), []).append(item)
    for loop, waiting in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, waiting)
        except RuntimeError:  # the loop is closed: nobody waits any more
            log.debug("an event loop closed before its commands were answered")


def _settle(items: list[_Pending]) -> None:
    for item in items:
        item.settle()
