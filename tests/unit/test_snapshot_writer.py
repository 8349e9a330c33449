"""``SnapshotWriter``: snapshots written off the committer's thread, gathered, none lost
at close, and a failed write logged without stopping the writer."""

from __future__ import annotations

import logging
import threading
from uuid import uuid4

import pytest

from hot.application.snapshots import SnapshotWriter


class Store:
    """What the writer is given to write with: records each call; the first call waits
    until ``release`` is set, so that submissions gather meanwhile."""

    def __init__(self, *, fail_first: bool = False) -> None:
        self.writes: list[list[object]] = []
        self.retaken: list[tuple[object, int]] = []
        self.threads: set[str] = set()
        self.release = threading.Event()
        self.writing = threading.Event()  # set once a write has begun
        self.fail_first = fail_first

    def write(self, snapshots: list[object]) -> None:
        self.threads.add(threading.current_thread().name)
        self.writing.set()
        self.release.wait(5)
        self.writes.append(snapshots)
        if self.fail_first and len(self.writes) == 1:
            raise RuntimeError("the database said no")

    def retake(self, human_id: object, version: int) -> None:
        self.retaken.append((human_id, version))


def test_snapshots_are_written_in_the_writer_s_thread_and_gathered_while_it_writes() -> None:
    store = Store()
    writer = SnapshotWriter(store.write, store.retake)

    writer.submit(["a"])
    assert store.writing.wait(5)
    writer.submit(["b", "c"])  # while "a" is being written
    writer.submit(["d"])
    store.release.set()
    writer.close()

    assert store.threads == {"hot-snapshots"}
    assert [snapshot for write in store.writes for snapshot in write] == ["a", "b", "c", "d"]
    assert store.writes == [["a"], ["b", "c", "d"]]  # what gathered behind "a": one write


def test_close_writes_everything_submitted_before_it() -> None:
    store = Store()
    store.release.set()
    writer = SnapshotWriter(store.write, store.retake)
    human = uuid4()

    for n in range(50):
        writer.submit([n], [(human, n)] if n % 10 == 0 else [])
    writer.close()

    assert sorted(snapshot for write in store.writes for snapshot in write) == list(range(50))
    assert store.retaken == [(human, n) for n in range(0, 50, 10)]


def test_a_failed_write_is_logged_and_the_next_ones_are_written(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = Store(fail_first=True)
    writer = SnapshotWriter(store.write, store.retake)
    writer.submit(["lost"])
    assert store.writing.wait(5)
    store.release.set()

    with caplog.at_level(logging.ERROR, logger="hot.application.snapshots"):
        writer.submit(["kept"])
        writer.close()

    assert store.writes[-1] == ["kept"]
    assert "writing 1 snapshot(s) failed" in caplog.text
