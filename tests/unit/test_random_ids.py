"""``RandomIds``: version 4 UUIDs, all different, also across threads and in a forked child;
``RandomDraws``, under them and the nonces that seal: bytes of the size asked, never twice."""

from __future__ import annotations

import os
import threading
from uuid import UUID

from hot.application.ids import RandomDraws, RandomIds

BATCH = 16


def test_ids_are_random_version_4_uuids_that_never_repeat() -> None:
    new_id = RandomIds(BATCH)
    ids = [new_id() for _ in range(3 * BATCH + 1)]

    assert all(
        isinstance(i, UUID) and i.version == 4 and i.variant == "specified in RFC 4122" for i in ids
    )
    assert len(set(ids)) == len(ids)


def test_threads_sharing_a_source_never_take_the_same_id() -> None:
    new_id = RandomIds(BATCH)
    drawn: list[list[UUID]] = []

    def draw() -> None:
        drawn.append([new_id() for _ in range(10 * BATCH + 3)])

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    everything = [i for ids in drawn for i in ids]
    assert len(set(everything)) == len(everything) == 4 * (10 * BATCH + 3)


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    new_id = RandomIds(BATCH)
    new_id()  # the parent now holds a batch
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next id
        os.write(write, new_id().bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child = UUID(bytes=os.read(read, 16))

    assert child != new_id()


def test_draws_have_the_size_asked_and_never_repeat_across_batches() -> None:
    draw = RandomDraws(12, BATCH)
    draws = [draw() for _ in range(5 * BATCH + 1)]

    assert {len(d) for d in draws} == {12}
    assert len(set(draws)) == len(draws)
