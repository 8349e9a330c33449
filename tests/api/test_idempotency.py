"""``Idempotency-Key``: a retry gets the first answer and records nothing, across processes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from tests.api.conftest import Humans, Tokens, bearer, new_email, problem
from tests.blocking import blocking_application

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]


def key() -> dict[str, str]:
    return {"Idempotency-Key": f"key-{uuid.uuid4()}"}


def test_a_retried_registration_answers_the_same_and_records_nothing(
    client: Client, humans: HumansApplication
) -> None:
    headers = key()
    body = {"name": "Dors Venabili", "email": new_email(), "kind": "employee"}

    first = client.post("/humans", json=body, headers=headers)
    head = humans.head()
    retry = client.post("/humans", json=body, headers=headers)

    assert first.status_code == retry.status_code == 201
    assert retry.json() == first.json()
    assert retry.headers["location"] == first.headers["location"]
    assert humans.head() == head


def test_a_retried_command_answers_the_same_even_after_other_writes(
    client: Client, given: Humans
) -> None:
    human_id = given.member()
    headers = key()
    first = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers)
    client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-03"})

    retry = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers)

    assert retry.status_code == 200
    assert retry.json() == first.json()
    assert retry.json()["version"] == 3
    assert len(given.events(human_id)) == 4


def test_the_same_key_with_another_body_is_422_and_records_nothing(
    client: Client, given: Humans, humans: HumansApplication
) -> None:
    human_id = given.member()
    headers = key()
    client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers)
    head = humans.head()

    other = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-03"}, headers=headers)

    problem(other, 422, "idempotency-key-reused")
    assert humans.head() == head


def test_the_same_key_on_another_path_is_422(client: Client, given: Humans) -> None:
    first, second = given.member(), given.member()
    headers = key()
    client.post(f"/humans/{first}/attend", json={"on": "2020-01-02"}, headers=headers)

    other = client.post(f"/humans/{second}/attend", json={"on": "2020-01-02"}, headers=headers)

    problem(other, 422, "idempotency-key-reused")


def test_a_refused_command_does_not_use_up_its_key(client: Client, given: Humans) -> None:
    human_id = given.register()
    headers = key()
    refused = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers)
    client.post(f"/humans/{human_id}/join", json={"on": "2020-01-01", "role": "r"})

    retry = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers)

    problem(refused, 409, "attendance-outside-membership")
    assert retry.status_code == 200


@pytest.mark.parametrize("value", ["", " ", "x" * 256, "naïve"])
def test_a_malformed_key_is_400_naming_the_header(
    client: Client, given: Humans, value: str
) -> None:
    human_id = given.member()

    response = client.post(
        f"/humans/{human_id}/attend",
        json={"on": "2020-01-02"},
        headers={"Idempotency-Key": value.encode()},
    )

    body = problem(response, 400, "invalid-request", "Idempotency-Key")
    assert [e["field"] for e in body["errors"]] == ["Idempotency-Key"]
    assert "regex" not in body["detail"]


@pytest.fixture
def second_process(
    module_database_url: str, api_keys: ApiKeyStore
) -> Iterator[tuple[HumansApplication, Client]]:
    """Another HoT on the same database, as another process would have."""
    other = blocking_application(module_database_url)
    with TestClient(create_app(other, api_keys), raise_server_exceptions=False) as test_client:
        yield other, test_client
    other.close()


def test_keys_hold_across_processes(
    client: Client,
    given: Humans,
    humans: HumansApplication,
    second_process: tuple[HumansApplication, Client],
    tokens: Tokens,
) -> None:
    _, other_client = second_process
    human_id = given.member()
    headers = key() | bearer(tokens.write)
    first = client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers)
    head = humans.head()

    retry = other_client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=headers
    )
    reused = other_client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-09"}, headers=headers
    )

    assert retry.status_code == 200
    assert retry.json() == first.json()
    problem(reused, 422, "idempotency-key-reused")
    assert humans.head() == head
