"""Which way a command over HTTP was decided: on the state this process knows (on the
event loop, no query) or on fresh state (in a worker thread), and when another process
wrote meanwhile, that a stale decision is retried on fresh state, so the answer is the
one fresh state gives (``hot.application.pipeline``)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from datetime import date
from uuid import UUID

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import HumansApplication
from tests.api.conftest import Humans
from tests.blocking import opened_application

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def elsewhere(module_database_url: str) -> Iterator[HumansApplication]:
    """Another process's application on the same database."""
    with opened_application(module_database_url) as application:
        yield application


def test_a_known_human_s_attend_is_decided_on_the_known_state_alone(
    client: TestClient[Litestar], humans: HumansApplication, given: Humans
) -> None:
    human_id = given.member("2020-01-01")  # known: this process just wrote it
    before = dataclasses.replace(humans.decisions)

    response = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"})

    assert response.status_code == 200, response.text
    assert (response.json()["id"], response.json()["version"]) == (human_id, 3)
    assert [e["name"] for e in given.events(human_id)][-1] == "HUMAN_ATTENDED"
    assert humans.decisions.known == before.known + 1
    assert humans.decisions.fresh == before.fresh  # no worker thread, no query


def test_a_registration_is_decided_on_fresh_state(
    client: TestClient[Litestar], humans: HumansApplication, given: Humans
) -> None:
    before = dataclasses.replace(humans.decisions)

    given.register()  # a new email's claim is known to nobody: it is looked up

    assert humans.decisions.fresh == before.fresh + 1


def test_an_idempotency_key_is_decided_on_known_state_and_its_retry_on_fresh_state(
    client: TestClient[Litestar], humans: HumansApplication, given: Humans
) -> None:
    human_id = given.member("2020-01-01")
    key = {"Idempotency-Key": f"k-{uuid.uuid4()}"}
    before = dataclasses.replace(humans.decisions)

    first = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=key)
    after_first = dataclasses.replace(humans.decisions)
    retry = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=key)

    assert first.status_code == retry.status_code == 200, first.text
    assert retry.json() == first.json()  # the first answer, nothing recorded again
    # Nothing is looked up before a first attempt: it is decided on the known state.
    assert (after_first.known, after_first.fresh) == (before.known + 1, before.fresh)
    # The retry: refused on the known state (attended already), so decided on fresh
    # state, where its record answers it.
    assert humans.decisions.fresh == after_first.fresh + 1
    assert len([e for e in given.events(human_id) if e["name"] == "HUMAN_ATTENDED"]) == 1


def test_a_retried_envelope_gets_the_first_answer_from_fresh_state(
    client: TestClient[Litestar], humans: HumansApplication, given: Humans
) -> None:
    human_id = given.member("2020-01-01")
    envelope = {
        "id": str(uuid.uuid4()),
        "name": "HUMAN_ATTENDED",
        "version": 1,
        "payload": {"human_id": human_id, "on": "2020-01-03"},
    }
    first = client.post("/events", json=envelope)
    before = dataclasses.replace(humans.decisions)

    # Refused on the known state (the day is attended already): on fresh state, the
    # envelope's record answers it.
    retry = client.post("/events", json=envelope)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert humans.decisions.fresh == before.fresh + 1


def test_a_command_on_stale_known_state_is_recorded_after_the_other_write(
    client: TestClient[Litestar],
    humans: HumansApplication,
    given: Humans,
    elsewhere: HumansApplication,
) -> None:
    human_id = given.member("2020-01-01")
    elsewhere.attend(UUID(human_id), date(2020, 1, 2))  # this process still knows version 2
    before = dataclasses.replace(humans.decisions)

    response = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-03"})

    assert response.status_code == 200, response.text
    assert humans.decisions.lost_races == before.lost_races + 1  # decided on known, lost
    assert humans.decisions.fresh == before.fresh + 1  # then decided on fresh state
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


def test_join_and_leave_on_the_known_state_answer_as_on_fresh_state(
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
