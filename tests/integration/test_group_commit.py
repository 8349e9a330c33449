"""The group committer on real PostgreSQL: commands handed in together share a
transaction, and when the batch clashes with a write from elsewhere, each command is
saved on its own: the clashing one is decided again on fresh state, no other fails."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import date
from uuid import UUID

import pytest

from hot.application import HumansApplication
from hot.application.group_commit import CommittedBatch
from hot.domain import HumanKind
from tests.blocking import blocking_application, run

pytestmark = pytest.mark.postgres


def _members(app: HumansApplication, count: int) -> list[UUID]:
    humans = []
    for n in range(count):
        human = app.register(f"Batch {n}", f"batch-{n}@example.org", HumanKind.EMPLOYEE)
        app.join(human.id, date(2020, 1, 1), "batcher")
        humans.append(human.id)
    return humans


def _attend_together(app: HumansApplication, humans: list[UUID], on: date) -> list[int]:
    """Attends of every human handed to the committer in one turn of the event loop."""

    async def together() -> list[int]:
        results = await asyncio.gather(*(app.application.attend(h, on) for h in humans))  # type: ignore[attr-defined]
        return [r.version for r in results]

    return list(run(together()))


def test_commands_handed_in_together_share_one_transaction(app: HumansApplication) -> None:
    humans = _members(app, 5)
    batches: list[CommittedBatch] = []
    stop = app.tell_commits(batches.append)

    versions = _attend_together(app, humans, date(2020, 1, 2))

    stop()
    assert versions == [3] * 5
    assert [len(b.written) for b in batches] == [5]  # one transaction for the five


def test_a_batch_that_clashes_with_a_write_from_elsewhere_saves_each_command_alone(
    app: HumansApplication, database_url: str
) -> None:
    humans = _members(app, 4)
    elsewhere = blocking_application(database_url)
    try:
        elsewhere.attend(humans[0], date(2020, 1, 2))  # this process still knows version 2
    finally:
        elsewhere.close()
    batches: list[CommittedBatch] = []
    stop = app.tell_commits(batches.append)
    before = dataclasses.replace(app.decisions)

    versions = _attend_together(app, humans, date(2020, 1, 3))

    stop()
    assert versions == [4, 3, 3, 3]  # the stale one recorded after the other write
    # The batch of four was refused as a whole; each command was then saved alone, and
    # the clashing one, refused alone, decided again on fresh state and saved.
    assert [len(b.written) for b in batches] == [1, 1, 1, 1]
    assert app.decisions.lost_races == before.lost_races + 1
    assert app.decisions.fresh == before.fresh + 1
    assert [e.name for e in app.history(humans[0])][-2:] == ["HUMAN_ATTENDED"] * 2
