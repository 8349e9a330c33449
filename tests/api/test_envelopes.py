"""``POST /events``: the seed's envelopes, the same rules as the typed commands, once only."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import HumansApplication
from tests.api.conftest import Humans, new_email, problem

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]


def envelope(name: str, payload: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    return {"id": event_id or str(uuid.uuid4()), "name": name, "version": 1, "payload": payload}


def test_a_registration_envelope_registers_a_human_with_the_envelope_id(
    client: Client, given: Humans
) -> None:
    posted = envelope("HUMAN_REGISTERED", {"name": "Bel", "email": new_email(), "kind": "guest"})

    response = client.post("/events", json=posted)

    assert response.status_code == 201, response.text
    human_id = response.json()["id"]
    assert response.json()["version"] == 1
    [event] = given.events(human_id)
    assert (event["id"], event["name"], event["payload"]["name"]) == (
        posted["id"],
        "HUMAN_REGISTERED",
        "Bel",
    )


def test_every_event_type_can_be_posted_about_an_existing_human(
    client: Client, given: Humans
) -> None:
    human_id = given.register()
    steps = [
        ("HUMAN_JOINED", {"on": "2020-01-01", "role": "scribe"}),
        ("HUMAN_ATTENDED", {"on": "2020-01-02"}),
        ("HUMAN_DETAILS_CHANGED", {"name": "Ebling Mis", "email": None}),
        ("HUMAN_LEFT", {"on": "2020-02-01", "reason": None}),
    ]
    posted = [envelope(name, payload | {"human_id": human_id}) for name, payload in steps]

    answers = [client.post("/events", json=e) for e in posted]

    assert [a.status_code for a in answers] == [201] * 4
    history = given.events(human_id)[1:]
    assert [(e["id"], e["name"]) for e in history] == [(p["id"], p["name"]) for p in posted]


def test_posting_the_same_envelope_again_answers_the_same_with_200_and_records_nothing(
    client: Client, given: Humans, humans: HumansApplication
) -> None:
    human_id = given.member()
    posted = envelope("HUMAN_ATTENDED", {"human_id": human_id, "on": "2020-01-02"})

    first = client.post("/events", json=posted)
    head = humans.head()
    again = client.post("/events", json=posted)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert humans.head() == head
    assert [e["name"] for e in given.events(human_id)].count("HUMAN_ATTENDED") == 1


def test_the_same_envelope_id_with_another_event_is_422(client: Client, given: Humans) -> None:
    human_id = given.member()
    event_id = str(uuid.uuid4())
    client.post(
        "/events",
        json=envelope("HUMAN_ATTENDED", {"human_id": human_id, "on": "2020-01-02"}, event_id),
    )

    other = envelope("HUMAN_ATTENDED", {"human_id": human_id, "on": "2020-01-03"}, event_id)

    problem(client.post("/events", json=other), 422, "idempotency-key-reused")


def test_an_envelope_follows_the_same_rules_as_the_typed_commands(
    client: Client, given: Humans
) -> None:
    human_id = given.register()

    response = client.post(
        "/events", json=envelope("HUMAN_LEFT", {"human_id": human_id, "on": "2020-01-01"})
    )

    problem(response, 409, "not-member")


def test_an_envelope_about_an_unknown_human_is_404(client: Client) -> None:
    posted = envelope("HUMAN_ATTENDED", {"human_id": str(uuid.uuid4()), "on": "2020-01-02"})

    problem(client.post("/events", json=posted), 404, "human-not-found")


def test_if_match_applies_to_envelopes(client: Client, given: Humans) -> None:
    human_id = given.member()  # version 2
    posted = envelope("HUMAN_ATTENDED", {"human_id": human_id, "on": "2020-01-02"})

    problem(
        client.post("/events", json=posted, headers={"If-Match": '"1"'}), 412, "version-mismatch"
    )


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": "HUMAN_TELEPORTED"}, "name"),
        ({"version": 99}, "version"),
        ({"payload": {"on": "2020-01-02"}}, "payload.human_id"),
        ({"payload": {"human_id": "nope", "on": "2020-01-02"}}, "payload.human_id"),
    ],
)
def test_an_envelope_the_catalog_does_not_describe_is_422_naming_the_field(
    client: Client, change: dict[str, Any], field: str
) -> None:
    posted = (
        envelope("HUMAN_ATTENDED", {"human_id": str(uuid.uuid4()), "on": "2020-01-02"}) | change
    )

    problem(client.post("/events", json=posted), 422, "invalid-envelope", field)


def test_a_forgetting_cannot_be_posted_as_an_envelope(client: Client, given: Humans) -> None:
    """It takes the admin scope, through its own route: 422 naming it (it was a 500)."""
    human_id = given.member()
    before = client.get(f"/humans/{human_id}").json()

    posted = envelope("HUMAN_FORGOTTEN", {"human_id": human_id, "by": "dpo@trantor.example"})
    refused = problem(client.post("/events", json=posted), 422, "invalid-envelope", "name")

    assert "POST /humans/{id}/forget" in refused["detail"]
    assert client.get(f"/humans/{human_id}").json() == before  # nothing recorded


def test_a_payload_of_the_wrong_shape_is_422_naming_a_payload_field(
    client: Client, given: Humans
) -> None:
    human_id = given.member()
    posted = envelope("HUMAN_ATTENDED", {"human_id": human_id, "on": "not a date"})

    body = problem(client.post("/events", json=posted), 422, "invalid-envelope")
    assert body["field"].startswith("payload")


@pytest.mark.parametrize(
    ("posted", "field"),
    [
        ({"name": "HUMAN_ATTENDED", "version": 1, "payload": {}}, "id"),
        ({"id": "nope", "name": "HUMAN_ATTENDED", "version": 1, "payload": {}}, "id"),
        (
            {"id": str(uuid.uuid4()), "name": "HUMAN_ATTENDED", "version": "1", "payload": {}},
            "version",
        ),
        (
            {"id": str(uuid.uuid4()), "name": "HUMAN_ATTENDED", "version": 1, "payload": []},
            "payload",
        ),
    ],
)
def test_an_envelope_of_the_wrong_shape_is_422_naming_the_field(
    client: Client, posted: dict[str, Any], field: str
) -> None:
    problem(client.post("/events", json=posted), 422, "invalid-body", field)
