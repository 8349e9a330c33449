"""The group committer's batching logic, with a recording fake of the store's save."""

from __future__ import annotations

import asyncio
import threading
import time
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.persistence import IntegrityError

from hot.application.group_commit import GroupCommitter


@dataclass(frozen=True)
class FakeEvent:
    originator_id: UUID
    originator_version: int


class FakeStore:
    """Saves events in memory; refuses a (id, version) slot already taken, like PostgreSQL."""

    def __init__(self) -> None:
        self.slots: set[tuple[UUID, int]] = set()
        self.transactions: list[list[FakeEvent]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def save(self, *events: FakeEvent, **_: Any) -> list[Any]:
        self.entered.set()
        assert self.gate.wait(timeout=10), "the test never opened the gate"
        slots = {(e.originator_id, e.originator_version) for e in events}
        if slots & self.slots:
            raise IntegrityError("slot taken")
        self.slots |= slots
        self.transactions.append(list(events))
        return [("recording", e) for e in events]


def test_a_lone_command_is_saved_in_a_transaction_of_its_own() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    event = FakeEvent(uuid4(), 1)

    recordings = committer.commit([event])

    assert recordings == [("recording", event)]
    assert store.transactions == [[event]]
    committer.close()


def test_commands_queued_while_a_batch_commits_share_the_next_transaction() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    store.gate.clear()  # hold the first batch in its transaction
    results: dict[int, Any] = {}

    def command(i: int) -> None:
        results[i] = committer.commit([FakeEvent(uuid4(), 1)])

    first = threading.Thread(target=command, args=(0,))
    first.start()
    assert store.entered.wait(timeout=5)  # the first batch is inside its transaction
    others = [threading.Thread(target=command, args=(i,)) for i in range(1, 11)]
    for t in others:
        t.start()
    deadline = time.monotonic() + 5
    while committer._queue.qsize() < 10 and time.monotonic() < deadline:
        time.sleep(0.001)
    store.gate.set()
    for t in [first, *others]:
        t.join(timeout=5)

    assert [len(t) for t in store.transactions] == [1, 10]
    assert all(len(results[i]) == 1 for i in range(11))
    committer.close()


def test_a_clash_inside_a_batch_fails_only_the_later_command() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    human = uuid4()
    winner, loser, bystander = _Pending(human, 1), _Pending(human, 1), _Pending(uuid4(), 1)

    committer._commit_batch([winner.item, loser.item, bystander.item])

    assert winner.item.error is None
    assert bystander.item.error is None
    assert isinstance(loser.item.error, IntegrityError)
    assert store.transactions == [[winner.event, bystander.event]]


def test_a_clash_with_a_write_from_elsewhere_fails_only_that_command() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    taken = FakeEvent(uuid4(), 1)
    store.save(taken)  # "another process" wrote this slot
    clashing, fine = _Pending(taken.originator_id, 1), _Pending(uuid4(), 1)

    committer._commit_batch([clashing.item, fine.item])

    assert isinstance(clashing.item.error, IntegrityError)
    assert fine.item.error is None
    assert fine.item.recordings == [("recording", fine.event)]


def test_a_store_failure_reaches_every_caller_of_the_batch() -> None:
    def broken_save(*events: FakeEvent, **_: Any) -> list[Any]:
        raise ConnectionError("database down")

    committer = GroupCommitter(broken_save)

    with pytest.raises(ConnectionError):
        committer.commit([FakeEvent(uuid4(), 1)])
    committer.close()


class _Pending:
    def __init__(self, originator: UUID, version: int) -> None:
        from hot.application.group_commit import _Pending as Item

        self.event = FakeEvent(originator, version)
        self.item = Item([self.event])


def test_commands_handed_in_during_one_turn_of_an_event_loop_share_a_transaction() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    events = [FakeEvent(uuid4(), 1) for _ in range(20)]
    clash = FakeEvent(events[0].originator_id, 1)

    async def hand_in() -> list[Any]:
        futures = [committer.commit_soon([e]) for e in [*events, clash]]
        return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(hand_in())

    assert results[:-1] == [[("recording", e)] for e in events]
    assert isinstance(results[-1], IntegrityError)  # refused alone: the others committed
    assert store.transactions == [events]
    committer.close()


def test_it_says_commands_are_waiting_only_while_some_queue_behind_a_batch() -> None:
    store = FakeStore()
    committer = GroupCommitter(store.save)
    store.gate.clear()  # hold the first batch in its transaction
    idle = committer.waiting()
    threads = [
        threading.Thread(target=committer.commit, args=([FakeEvent(uuid4(), 1)],)) for _ in range(3)
    ]
    threads[0].start()
    assert store.entered.wait(timeout=5)
    alone = committer.waiting()  # the batch in its transaction is not waiting
    for t in threads[1:]:
        t.start()
    deadline = time.monotonic() + 5
    while committer._queue.qsize() < 2 and time.monotonic() < deadline:
        time.sleep(0.001)
    queued = committer.waiting()
    store.gate.set()
    for t in threads:
        t.join(timeout=5)

    assert (idle, alone, queued, committer.waiting()) == (False, False, True, False)
    committer.close()
