"""The group committer's batching logic, with a recording fake of the store's save."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from hot.application.group_commit import Commit, CommittedBatch, GroupCommitter, Written
from hot.application.group_commit import _Pending as Pending
from hot.application.idempotency import IdempotencyKey, IdempotencyRecord
from hot.application.ports import Saved


@dataclass(frozen=True)
class FakeEvent:
    originator_id: UUID
    originator_version: int


@dataclass
class FakeAggregate:
    """An aggregate with one new event to commit."""

    id: UUID = field(default_factory=uuid4)
    version: int = 1

    def collect_events(self) -> list[FakeEvent]:
        return [FakeEvent(self.id, self.version)]


class FakeStore:
    """Saves events in memory; refuses a (id, version) slot already taken, like PostgreSQL."""

    def __init__(self) -> None:
        self.slots: set[tuple[UUID, int]] = set()
        self.transactions: list[list[FakeEvent]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def save(self, events: Sequence[FakeEvent], *_: Any) -> Saved:
        self.entered.set()
        assert self.gate.wait(timeout=10), "the test never opened the gate"
        slots = {(e.originator_id, e.originator_version) for e in events}
        if slots & self.slots:
            raise IntegrityError("slot taken")
        self.slots |= slots
        self.transactions.append(list(events))
        before = sum(len(t) for t in self.transactions[:-1])
        return Saved(list(range(before + 1, before + len(events) + 1)), before)


class Told:
    """The committer's ``committed`` listener: what it was told."""

    def __init__(self) -> None:
        self.batches: list[CommittedBatch] = []

    def __call__(self, batch: CommittedBatch) -> None:
        self.batches.append(batch)


def _committer(store: FakeStore, told: Told | None = None) -> GroupCommitter:
    return GroupCommitter(store.save, told or Told(), max_batch=500)


def test_a_lone_command_is_saved_in_a_transaction_of_its_own() -> None:
    store, told = FakeStore(), Told()
    committer = _committer(store, told)
    aggregate = FakeAggregate()

    async def commit() -> list[Written]:
        return await committer.commit(Commit([aggregate]))

    written = asyncio.run(commit())

    event = FakeEvent(aggregate.id, 1)
    assert written == [Written(event, 1)]
    assert store.transactions == [[event]]
    (batch,) = told.batches
    assert (batch.written, batch.aggregates, batch.before, batch.waiting) == (
        [Written(event, 1)],
        [aggregate],
        0,
        False,
    )
    committer.close()


def test_commands_queued_while_a_batch_commits_share_the_next_transaction() -> None:
    store, told = FakeStore(), Told()
    committer = _committer(store, told)
    store.gate.clear()  # hold the first batch in its transaction

    async def commands() -> list[list[Written]]:
        first = committer.commit(Commit([FakeAggregate()]))
        assert await asyncio.to_thread(store.entered.wait, 5)  # inside its transaction
        queued = []
        for _ in range(10):  # each in a turn of its own: ten hand-overs
            queued.append(committer.commit(Commit([FakeAggregate()])))
            await asyncio.sleep(0)
        while committer._queue.qsize() < 10:
            await asyncio.sleep(0.001)
        store.gate.set()
        return await asyncio.gather(first, *queued)

    results = asyncio.run(commands())

    assert [len(t) for t in store.transactions] == [1, 10]
    assert all(len(r) == 1 for r in results)
    # While the first transaction committed, commands were waiting behind it.
    assert [b.waiting for b in told.batches] == [True, False]
    committer.close()


def _pending(loop: asyncio.AbstractEventLoop, originator: UUID, version: int) -> Pending:
    aggregate = FakeAggregate(originator, version)
    return Pending(Commit([aggregate]), aggregate.collect_events(), loop.create_future())


def test_a_clash_inside_a_batch_fails_only_the_later_command() -> None:
    store = FakeStore()
    committer = _committer(store)
    loop = asyncio.new_event_loop()
    human = uuid4()
    winner, loser, bystander = (_pending(loop, h, 1) for h in (human, human, uuid4()))

    committer._commit_batch([winner, loser, bystander])

    assert winner.error is None
    assert bystander.error is None
    assert isinstance(loser.error, IntegrityError)
    assert store.transactions == [[*winner.events, *bystander.events]]
    loop.close()


def test_a_clash_with_a_write_from_elsewhere_fails_only_that_command() -> None:
    store = FakeStore()
    committer = _committer(store)
    loop = asyncio.new_event_loop()
    taken = FakeEvent(uuid4(), 1)
    store.save([taken])  # "another process" wrote this slot
    clashing, fine = _pending(loop, taken.originator_id, 1), _pending(loop, uuid4(), 1)

    committer._commit_batch([clashing, fine])

    assert isinstance(clashing.error, IntegrityError)
    assert fine.error is None
    assert fine.written == [Written(fine.events[0], 2)]
    assert store.transactions == [[taken], fine.events]  # saved alone, after the clash
    loop.close()


def test_a_store_failure_reaches_every_caller_of_the_batch() -> None:
    def broken_save(*_: Any) -> Saved:
        raise ConnectionError("database down")

    committer = GroupCommitter(broken_save, Told(), max_batch=500)

    async def commit() -> list[Written]:
        return await committer.commit(Commit([FakeAggregate()]))

    with pytest.raises(ConnectionError):
        asyncio.run(commit())
    committer.close()


def test_commands_handed_in_during_one_turn_of_an_event_loop_share_a_transaction() -> None:
    store = FakeStore()
    committer = _committer(store)
    aggregates = [FakeAggregate() for _ in range(20)]
    clash = FakeAggregate(aggregates[0].id, 1)

    async def hand_in() -> list[Any]:
        futures = [committer.commit(Commit([a])) for a in [*aggregates, clash]]
        return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(hand_in())

    events = [FakeEvent(a.id, 1) for a in aggregates]
    assert results[:-1] == [[Written(e, i + 1)] for i, e in enumerate(events)]
    assert isinstance(results[-1], IntegrityError)  # refused alone: the others committed
    assert store.transactions == [events]
    committer.close()


def test_two_commands_of_one_idempotency_key_in_a_batch_do_not_both_commit() -> None:
    """Their records would clash in the database (failing the whole batch): the second is
    refused before the batch is saved, as a clash of versions is, and the rest commit."""
    store = FakeStore()
    saved_records: list[IdempotencyRecord] = []

    def save(events: Sequence[FakeEvent], keys: Any, destroyed: Any, records: Any) -> Saved:
        saved_records.extend(records)
        return store.save(events)

    committer = GroupCommitter(save, Told(), max_batch=500)
    key = IdempotencyKey("retried", "same request")
    first, second, other = FakeAggregate(), FakeAggregate(), FakeAggregate()

    async def hand_in() -> list[Any]:
        futures = [
            committer.commit(Commit([first], idempotency_records=[_record(key, first)])),
            committer.commit(Commit([second], idempotency_records=[_record(key, second)])),
            committer.commit(Commit([other])),
        ]
        return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(hand_in())

    assert isinstance(results[1], IntegrityError)
    assert results[0] == [Written(FakeEvent(first.id, 1), 1)]
    assert results[2] == [Written(FakeEvent(other.id, 1), 2)]
    assert saved_records == [_record(key, first)]
    committer.close()


def _record(key: IdempotencyKey, aggregate: FakeAggregate) -> IdempotencyRecord:
    return IdempotencyRecord.of(key, aggregate.id, aggregate.version)


def test_no_batch_is_larger_than_its_limit() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save, Told(), max_batch=1)

    async def hand_in() -> list[Any]:
        return await asyncio.gather(
            *(committer.commit(Commit([FakeAggregate()])) for _ in range(5))
        )

    asyncio.run(hand_in())

    assert [len(t) for t in store.transactions] == [1] * 5
    committer.close()
