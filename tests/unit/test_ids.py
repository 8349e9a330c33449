"""A human's id and every event's id are random version 4 UUIDs, all different, also
across threads and in a forked child."""

from __future__ import annotations

import os
import threading
from uuid import UUID

from hot.domain import Human, HumanKind


def _ids(count: int) -> list[UUID]:
    """The ids a registration makes (the human's, its event's), ``count`` times."""
    ids: list[UUID] = []
    for _ in range(count):
        human = Human.register("Hari Seldon", "hari@trantor.example", HumanKind.EMPLOYEE)
        ids += [human.id, *(e.event_id for e in human.collect_events())]
    return ids


def test_ids_are_random_version_4_uuids_that_never_repeat() -> None:
    ids = _ids(400)

    assert all(
        isinstance(i, UUID) and i.version == 4 and i.variant == "specified in RFC 4122" for i in ids
    )
    assert len(set(ids)) == len(ids)


def test_threads_draw_ids_of_their_own() -> None:
    drawn: list[list[UUID]] = []

    def draw() -> None:
        drawn.append(_ids(130))

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    everything = [i for ids in drawn for i in ids]
    assert len(set(everything)) == len(everything) == 4 * 2 * 130


def test_a_forked_child_does_not_repeat_its_parents_ids() -> None:
    _ids(1)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its next id
        os.write(write, _ids(1)[0].bytes)
        os._exit(0)
    os.waitpid(pid, 0)
    child = UUID(bytes=os.read(read, 16))

    assert child != _ids(1)[0]
