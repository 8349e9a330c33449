"""Teams' own event types over HTTP: register, version, post, read back, deprecate.

The seed's worked example: a standup service registers ``RECEIVED_STANDUP_UPDATE`` at
version 1 and later version 2 (with an upcast), and posts standups at both versions.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from hot.infra.api_keys import ApiKeyStore
from hot_follow.representation import MASKED
from tests.api.conftest import Humans, Tokens, bearer, problem
from tests.standup import (
    STANDUP_V1,
    STANDUP_V1_PAYLOAD,
    STANDUP_V1_TO_V2,
    STANDUP_V2,
    STANDUP_V2_PAYLOAD,
)

Client = TestClient[Litestar]


def new_type(client: Client, **fields: Any) -> str:
    name = fields.pop("name", f"RECEIVED_STANDUP_UPDATE_{uuid.uuid4().hex[:8].upper()}")
    body = {"name": name, "description": "A standup update.", "owner": "standup-team", **fields}
    response = client.post("/catalog/types", json=body)
    assert response.status_code == 201, response.text
    return name


def add_version(client: Client, name: str, schema: dict[str, Any], **more: Any) -> int:
    response = client.post(f"/catalog/types/{name}/versions", json={"schema": schema, **more})
    assert response.status_code == 201, response.text
    assert response.json()["name"] == name
    return int(response.json()["version"])


def post(client: Client, name: str, version: int, human_id: str, payload: dict[str, Any]) -> Any:
    envelope = {
        "id": str(uuid.uuid4()),
        "name": name,
        "version": version,
        "payload": {"human_id": human_id, **payload},
    }
    return client.post("/events", json=envelope)


def standup_type(client: Client) -> str:
    name = new_type(client)
    assert add_version(client, name, STANDUP_V1) == 1
    assert add_version(client, name, STANDUP_V2, upcast=STANDUP_V1_TO_V2) == 2
    return name


def test_a_team_event_is_recorded_and_read_back_as_posted(client: Client, given: Humans) -> None:
    name = standup_type(client)
    human = given.register()

    answer = post(client, name, 1, human, STANDUP_V1_PAYLOAD)

    assert answer.status_code == 201, answer.text
    recorded = given.events(human)[-1]
    assert (recorded["name"], recorded["version"]) == (name, 1)
    assert recorded["payload"] == STANDUP_V1_PAYLOAD  # exactly as posted, no human_id
    assert recorded["position"] == answer.json()["position"]


def test_personal_fields_of_a_team_event_are_masked_without_the_scope(
    client: Client, given: Humans, tokens: Tokens
) -> None:
    name = standup_type(client)
    human = given.register()
    post(client, name, 2, human, STANDUP_V2_PAYLOAD)

    masked = client.get("/events", params={"name": name}, headers=bearer(tokens.read)).json()
    shown = client.get("/events", params={"name": name}).json()

    assert masked["events"][-1]["payload"] == {**STANDUP_V2_PAYLOAD, "ecode": MASKED}
    assert shown["events"][-1]["payload"] == STANDUP_V2_PAYLOAD
    history = client.get(f"/humans/{human}/events", headers=bearer(tokens.read)).json()
    assert history["events"][-1]["payload"]["ecode"] == MASKED


def test_old_events_read_as_posted_by_default_and_upcast_on_request(
    client: Client, given: Humans
) -> None:
    name = standup_type(client)
    human = given.register()
    post(client, name, 1, human, STANDUP_V1_PAYLOAD)
    post(client, name, 2, human, STANDUP_V2_PAYLOAD)

    as_posted = client.get("/events", params={"name": name}).json()["events"]
    latest = client.get("/events", params={"name": name, "as_version": "latest"}).json()["events"]

    assert [(e["version"], e["payload"]) for e in as_posted] == [
        (1, STANDUP_V1_PAYLOAD),
        (2, STANDUP_V2_PAYLOAD),
    ]
    upcast_v1 = {**STANDUP_V1_PAYLOAD, "issues": [], "notes": [], "isDelivered": False}
    assert [(e["version"], e["payload"]) for e in latest] == [
        (2, upcast_v1),
        (2, STANDUP_V2_PAYLOAD),
    ]


def test_a_breaking_version_is_refused_with_each_change_and_a_dry_run_only_checks(
    client: Client,
) -> None:
    name = new_type(client)
    add_version(client, name, STANDUP_V1)
    path = f"/catalog/types/{name}/versions"

    dry = client.post(path, params={"dry_run": "true"}, json={"schema": STANDUP_V2})
    refused = client.post(path, json={"schema": STANDUP_V2})
    fine = client.post(
        path, params={"dry_run": "true"}, json={"schema": STANDUP_V2, "upcast": STANDUP_V1_TO_V2}
    )

    assert dry.status_code == 200
    assert dry.json()["compatible"] is False
    assert {e["path"] for e in dry.json()["errors"]} == {"issues", "notes", "isDelivered"}
    body = problem(refused, 409, "incompatible-schema")
    assert {e["path"] for e in body["errors"]} == {"issues", "notes", "isDelivered"}
    assert fine.json() == {"compatible": True, "errors": []}
    versions = client.get(f"/catalog/types/{name}").json()["versions"]
    assert [v["version"] for v in versions] == [1]  # the dry runs recorded nothing


def test_a_deprecated_version_is_refused_naming_the_current_one_and_still_read(
    client: Client, given: Humans
) -> None:
    name = standup_type(client)
    human = given.register()
    post(client, name, 1, human, STANDUP_V1_PAYLOAD)

    deprecated = client.post(f"/catalog/types/{name}/versions/1/deprecate")
    refused = post(client, name, 1, human, STANDUP_V1_PAYLOAD)

    assert deprecated.status_code == 200, deprecated.text
    assert deprecated.json()["current"] == 2
    body = problem(refused, 410, "event-version-deprecated")
    assert body["current"] == 2
    assert "version 2" in body["detail"]
    assert [e["version"] for e in given.events(human) if e["name"] == name] == [1]
    assert post(client, name, 2, human, STANDUP_V2_PAYLOAD).status_code == 201


def test_bad_team_events_get_a_problem_and_record_nothing(client: Client, given: Humans) -> None:
    name = standup_type(client)
    human = given.register()
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["x"] = {}
        node = node["x"]
    cases = [
        (post(client, name, 2, human, {"project": 5}), 422, "invalid-payload"),
        (post(client, name, 2, str(uuid.uuid4()), STANDUP_V2_PAYLOAD), 404, "human-not-found"),
        (post(client, name, 3, human, STANDUP_V2_PAYLOAD), 404, "event-version-not-found"),
        (post(client, "NO_SUCH_TYPE", 1, human, {}), 404, "event-type-not-found"),
        (post(client, "not a name", 1, human, {}), 422, "invalid-envelope"),
        (post(client, name, 2, human, {**STANDUP_V2_PAYLOAD, "notes": ["a\x00b"]}), 422, None),
        (post(client, name, 2, human, {**STANDUP_V2_PAYLOAD, "deep": deep}), 422, None),
    ]

    for response, status, rule in cases:
        body = problem(response, status, rule or "invalid-payload")
        assert body["detail"]
    failing = problem(cases[0][0], 422, "invalid-payload")["errors"]
    assert {e["path"] for e in failing} >= {"payload.project", "payload.ecode"}
    assert [e for e in given.events(human) if e["name"] == name] == []


def test_a_forgotten_human_takes_no_team_event(client: Client, given: Humans) -> None:
    name = standup_type(client)
    human = given.register()
    post(client, name, 2, human, STANDUP_V2_PAYLOAD)

    assert client.post(f"/humans/{human}/forget").status_code == 200
    refused = post(client, name, 2, human, STANDUP_V2_PAYLOAD)

    problem(refused, 410, "human-forgotten")
    shown = [e for e in given.events(human) if e["name"] == name]
    assert shown[0]["payload"]["ecode"] == "(forgotten)"
    assert shown[0]["payload"]["project"] == STANDUP_V2_PAYLOAD["project"]


def test_registering_types_takes_the_catalog_scope_and_checks_the_name(
    client: Client, tokens: Tokens, api_keys: ApiKeyStore
) -> None:
    catalog_token = api_keys.create(f"catalog-{uuid.uuid4().hex[:6]}", ["catalog"])
    body = {"name": "DESK_BOOKED", "description": "A desk was booked.", "owner": "facilities"}
    name = f"DESK_BOOKED_{uuid.uuid4().hex[:6].upper()}"

    forbidden = client.post(
        "/catalog/types", json=body | {"name": name}, headers=bearer(tokens.write)
    )
    created = client.post(
        "/catalog/types", json=body | {"name": name}, headers=bearer(catalog_token)
    )
    again = client.post("/catalog/types", json=body | {"name": name})

    problem(forbidden, 403, "forbidden")
    assert created.status_code == 201
    assert created.headers["Location"] == f"/catalog/types/{name}"
    assert created.json()["compatibility"] == "BACKWARD"
    assert created.json()["versions"] == []
    problem(again, 409, "event-type-exists")
    for bad in ("desk_booked", "HUMAN_PROMOTED", "EVENT_TYPE_X", "A__B", "9LIVES"):
        problem(client.post("/catalog/types", json=body | {"name": bad}), 422, "invalid-event-type")
    problem(
        client.post("/catalog/types", json=body | {"compatibility": "SOME"}), 422, "invalid-body"
    )


def test_two_registrations_of_the_same_next_version_exactly_one_wins(client: Client) -> None:
    name = new_type(client)
    add_version(client, name, STANDUP_V1)
    body = {"schema": STANDUP_V2, "upcast": STANDUP_V1_TO_V2, "version": 2}

    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(lambda _: client.post(f"/catalog/types/{name}/versions", json=body), range(8))
        )

    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    assert {a.json()["rule"] for a in answers if a.status_code == 409} == {"event-version-taken"}
    assert [v["version"] for v in client.get(f"/catalog/types/{name}").json()["versions"]] == [1, 2]


def test_the_catalog_and_the_asyncapi_document_include_teams_types(client: Client) -> None:
    name = standup_type(client)

    catalog = client.get("/catalog", headers={"Authorization": ""}).json()["events"]
    document = client.get("/catalog/asyncapi.json").json()

    ours = [e for e in catalog if e["name"] == name]
    assert [(e["version"], e["owner"], e["compatibility"]) for e in ours] == [
        (1, "standup-team", "BACKWARD"),
        (2, "standup-team", "BACKWARD"),
    ]
    assert ours[0]["dataschema"] == f"/catalog/types/{name}/versions/1"
    assert client.get(ours[0]["dataschema"]).json()["schema"] == STANDUP_V1
    assert document["channels"][name]["address"] == f"hot:events:{name}"
    assert set(document["channels"][name]["messages"]) == {f"{name}.v1", f"{name}.v2"}
    assert any(e["name"] == "HUMAN_JOINED" for e in catalog)
    changes = client.get("/events", params={"name": ["EVENT_TYPE_REGISTERED"], "limit": 10_000})
    registered = [e for e in changes.json()["events"] if e["payload"]["name"] == name]
    assert registered[0]["payload"]["owner"] == "standup-team"  # the catalog's own log entry
    added = client.get("/events", params={"name": ["EVENT_TYPE_VERSION_ADDED"], "limit": 10_000})
    ours_added = [e for e in added.json()["events"] if e["subject"] == registered[0]["subject"]]
    assert [e["payload"]["version"] for e in ours_added] == [1, 2]


def test_a_team_event_posted_again_conflicts_with_its_record_and_is_recorded_once(
    client: Client, given: Humans, humans: Any
) -> None:
    name = standup_type(client)
    human = given.register()
    envelope = {
        "id": str(uuid.uuid4()),
        "name": name,
        "version": 2,
        "payload": {"human_id": human, **STANDUP_V2_PAYLOAD},
    }
    first = client.post("/events", json=envelope)
    races = humans.decisions.lost_races

    again = client.post("/events", json=envelope)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    # No rule refuses a second standup: the commit met the envelope's record (a lost
    # race), and fresh state found the first answer.
    assert humans.decisions.lost_races == races + 1
    assert len([e for e in given.events(human) if e["name"] == name]) == 1
