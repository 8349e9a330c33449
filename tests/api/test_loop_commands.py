"""Commands decided on the event loop from the state this process knows, when another
process has written meanwhile: a stale decision is retried on fresh state, so the
answer is the one fresh state gives (``hot.application.loop_commands``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import CommandResult, HumansApplication
from hot.infra.bootstrap import build_application
from tests.api.conftest import Humans

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def elsewhere(module_database_url: str) -> Iterator[HumansApplication]:
    """Another process's application on the same database."""
    application = build_application(module_database_url)
    yield application
    application.close()


def test_the_loop_path_is_taken_for_a_known_human(humans: HumansApplication, given: Humans) -> None:
    assert humans.on_loop is not None
    on_loop = humans.on_loop
    human_id = UUID(given.member("2020-01-01"))  # known: this process just wrote it

    async def no_thread() -> CommandResult:
        raise AssertionError("a known human's attend went to the worker-thread path")

    async def attend() -> CommandResult:
        return await on_loop.attend(
            human_id,
            date(2020, 1, 2),
            expected_version=None,
            idempotency=None,
            deadline=10,
            otherwise=no_thread,
        )

    result = asyncio.run(attend())

    assert (result.id, result.version) == (human_id, 3)
    assert [e["name"] for e in given.events(str(human_id))][-1] == "HUMAN_ATTENDED"


def test_a_command_on_stale_known_state_is_recorded_after_the_other_write(
    client: TestClient[Litestar], given: Humans, elsewhere: HumansApplication
) -> None:
    human_id = given.member("2020-01-01")
    elsewhere.attend(UUID(human_id), date(2020, 1, 2))  # this process still knows version 2

    response = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-03"})

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 4
    assert response.headers["ETag"] == '"4"'
    assert [e["name"] for e in given.events(human_id)][-2:] == ["HUMAN_ATTENDED"] * 2


def test_a_stale_acceptance_becomes_the_rejection_fresh_state_gives(
    client: TestClient[Litestar], given: Humans, elsewhere: HumansApplication
) -> None:
    human_id = given.member("2020-01-01")
    elsewhere.leave(UUID(human_id), date(2020, 1, 31))  # known here: still a member

    response = client.post(f"/humans/{human_id}/attend", json={"on": "2020-02-03"})

    assert response.status_code == 409, response.text
    assert response.json()["rule"] == "attendance-outside-membership"
    assert [e["name"] for e in given.events(human_id)][-1] == "HUMAN_LEFT"


def test_a_stale_rejection_becomes_the_acceptance_fresh_state_gives(
    client: TestClient[Litestar], given: Humans, elsewhere: HumansApplication
) -> None:
    human_id = given.register()  # known here: not a member
    elsewhere.join(UUID(human_id), date(2020, 1, 1), "archivist")

    response = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"})

    assert response.status_code == 200, response.text
    assert response.json()["version"] == 3


def test_if_match_ahead_of_the_known_state_is_judged_on_fresh_state(
    client: TestClient[Litestar], given: Humans, elsewhere: HumansApplication
) -> None:
    human_id = given.member("2020-01-01")
    elsewhere.attend(UUID(human_id), date(2020, 1, 2))

    ahead = client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-03"}, headers={"If-Match": '"3"'}
    )
    behind = client.post(
        f"/humans/{human_id}/leave", json={"on": "2020-01-04"}, headers={"If-Match": '"3"'}
    )

    assert ahead.status_code == 200, ahead.text
    assert behind.status_code == 412, behind.text


def test_join_and_leave_on_the_loop_path_answer_as_the_thread_path(
    client: TestClient[Litestar], given: Humans
) -> None:
    human_id = given.member("2020-01-01")

    again = client.post(f"/humans/{human_id}/join", json={"on": "2020-01-05", "role": "x"})
    left = client.post(f"/humans/{human_id}/leave", json={"on": "2020-01-10", "reason": "moved"})
    early = client.post(f"/humans/{human_id}/join", json={"on": "2020-01-10", "role": "x"})
    rejoined = client.post(f"/humans/{human_id}/join", json={"on": "2020-01-11", "role": "x"})

    assert again.status_code == 409, again.text
    assert left.status_code == 200
    assert left.json()["version"] == 3
    assert early.status_code == 409, early.text
    assert rejoined.status_code == 200
    assert rejoined.json()["version"] == 4
