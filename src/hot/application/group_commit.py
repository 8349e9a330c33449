"""Group commit: the events of concurrent commands saved together, one transaction a batch.

The ``eventsourcing`` PostgreSQL recorder serialises writers with a table lock, so
one transaction per command caps throughput near a thousand commands a second.
Here callers hand their events to one committer thread and wait; it saves whatever
has queued up as one batch. Under light load a batch is a single command, so
latency stays that of one save. One command's conflict never fails the others:
commands that clash inside a batch are refused before saving, and if the batch
clashes with a write from elsewhere, each command is saved on its own.

A caller on an event loop does not block: ``commit_soon`` answers an asyncio future,
which the committer resolves through the loop (one wake-up per loop and batch). What
a loop hands in during one turn of it reaches the committer together: one wake-up of
the committer thread per turn, not per command.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, Recording

log = logging.getLogger(__name__)

SaveEvents = Callable[..., list[Recording[UUID]]]
Recordings = list[Recording[UUID]]
AfterCommit = Callable[[Recordings, Sequence[BaseAggregate[UUID]]], None]


@dataclass
class _Pending:
    events: Sequence[Any]
    new_keys: Sequence[tuple[UUID, bytes]] = ()
    aggregates: Sequence[BaseAggregate[UUID]] = ()  # their state after these events
    future: asyncio.Future[Recordings] | None = None  # a caller on an event loop
    done: threading.Event | None = None  # a caller in a thread
    recordings: Recordings = field(default_factory=list)
    error: BaseException | None = None

    def succeed(self, recordings: Recordings) -> None:
        self.recordings = recordings

    def fail(self, error: BaseException) -> None:
        self.error = error

    def settle(self) -> None:
        """Hand the outcome to a waiting future (on its loop's thread)."""
        future = self.future
        if future is None or future.done():  # e.g. the caller gave up at its deadline
            return
        if self.error is not None:
            future.set_exception(self.error)
        else:
            future.set_result(self.recordings)

    @property
    def slots(self) -> set[tuple[UUID, int]]:
        return {(e.originator_id, e.originator_version) for e in self.events}


class GroupCommitter:
    """Saves events handed in by many threads, batching those that arrive together."""

    def __init__(
        self,
        save: SaveEvents,
        after_commit: AfterCommit | None = None,
        max_batch: int = 500,
    ) -> None:
        self._save = save
        self._after_commit = after_commit
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[list[_Pending] | None] = queue.SimpleQueue()
        self._held: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}  # this turn's
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def commit(
        self,
        events: Sequence[Any],
        new_keys: Sequence[tuple[UUID, bytes]] = (),
        aggregates: Sequence[BaseAggregate[UUID]] = (),
    ) -> Recordings:
        """Save ``events`` (and the personal-data keys of new humans) in one transaction,
        shared with others; block until committed. ``aggregates``: their state after
        ``events`` (snapshots are taken from it)."""
        pending = _Pending(events, new_keys, aggregates, done=threading.Event())
        self._ensure_running()
        self._queue.put([pending])
        pending.done.wait()  # type: ignore[union-attr]
        if pending.error is not None:
            raise pending.error
        return pending.recordings

    def commit_soon(
        self, events: Sequence[Any], aggregates: Sequence[BaseAggregate[UUID]] = ()
    ) -> asyncio.Future[Recordings]:
        """``commit`` for a caller on the running event loop: a future of the recordings."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Recordings] = loop.create_future()
        self._ensure_running()
        held = self._held.get(loop)
        if held is None:
            held = self._held[loop] = []
            loop.call_soon(self._hand_over, loop)  # once this turn's commands are in
        held.append(_Pending(events, (), aggregates, future=future))
        return future

    def waiting(self) -> bool:
        """Whether commands are queued for the next batch (the committer is saturated)."""
        return not self._queue.empty()

    def _hand_over(self, loop: asyncio.AbstractEventLoop) -> None:
        self._queue.put(self._held.pop(loop))

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                self._queue.put(None)
                self._thread.join(timeout=10)
                self._thread = None

    def _ensure_running(self) -> None:
        if self._thread is None:
            with self._lock:
                if self._thread is None:
                    self._thread = threading.Thread(
                        target=self._run, name="hot-group-commit", daemon=True
                    )
                    self._thread.start()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = list(first)
            while len(batch) < self._max_batch:
                try:
                    items = self._queue.get_nowait()
                except queue.Empty:
                    break
                if items is None:
                    self._queue.put(None)  # stop after this batch
                    break
                batch.extend(items)
            self._commit_batch(batch)

    def _commit_batch(self, batch: list[_Pending]) -> None:
        accepted = self._without_clashes(batch)
        if len(accepted) < len(batch):
            _announce([item for item in batch if item.error is not None])
        if not accepted:
            return
        try:
            recordings = self._save(
                *(e for item in accepted for e in item.events),
                new_personal_keys=[k for item in accepted for k in item.new_keys],
            )
        except IntegrityError:
            if len(accepted) == 1:
                accepted[0].fail(IntegrityError("another write committed first"))
                _announce(accepted)
                return
            for item in accepted:  # a write from elsewhere: save each alone
                self._commit_batch([item])
            return
        except BaseException as error:  # the database is down: every caller hears why
            for item in accepted:
                item.fail(error)
            _announce(accepted)
            return
        start = 0
        for item in accepted:
            item.succeed(recordings[start : start + len(item.events)])
            start += len(item.events)
        _announce(accepted)
        if self._after_commit is not None:
            try:
                self._after_commit(recordings, [a for item in accepted for a in item.aggregates])
            except Exception:
                log.exception("after-commit work failed (the commit itself stands)")

    @staticmethod
    def _without_clashes(batch: list[_Pending]) -> list[_Pending]:
        """Refuse a command that writes an aggregate version an earlier one in the batch writes."""
        taken: set[tuple[UUID, int]] = set()
        accepted: list[_Pending] = []
        for item in batch:
            slots = item.slots
            if slots & taken:
                item.fail(IntegrityError("another command in the batch wrote first"))
                continue
            taken |= slots
            accepted.append(item)
        return accepted


def _announce(items: list[_Pending]) -> None:
    """Wake the callers of ``items``: threads directly, each event loop once for all."""
    by_loop: dict[asyncio.AbstractEventLoop, list[_Pending]] = {}
    for item in items:
        if item.future is None:
            if item.done is not None:
                item.done.set()
        else:
            by_loop.setdefault(item.future.get_loop(), []).append(item)
    for loop, waiting in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, waiting)
        except RuntimeError:  # the loop is closed: nobody waits any more
            log.debug("an event loop closed before its commands were answered")


def _settle(items: list[_Pending]) -> None:
    for item in items:
        item.settle()
