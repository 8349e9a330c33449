"""The queries over HTTP: a human's state, at versions and instants; histories; the log."""

from __future__ import annotations

import itertools
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from tests.api.conftest import Humans, problem
from tests.expected import PUBLIC_NAMES

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]
EVENT_KEYS = {"id", "name", "version", "subject", "sequence", "position", "time", "payload"}


def test_a_human_reads_back_with_its_etag(client: Client, given: Humans) -> None:
    human_id = given.member(joined_on="2020-01-01", role="mayor")
    client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-03"})

    response = client.get(f"/humans/{human_id}")

    assert response.status_code == 200
    assert response.headers["etag"] == '"3"'
    human = response.json()
    assert human["id"] == human_id
    assert human["kind"] == "employee"
    assert (human["version"], human["status"]) == (3, "member")
    assert human["memberships"] == [{"joined_on": "2020-01-01", "left_on": None, "role": "mayor"}]
    assert human["attended_days"] == ["2020-01-03"]


def test_a_human_at_a_version(client: Client, given: Humans) -> None:
    human_id = given.member()

    response = client.get(f"/humans/{human_id}", params={"version": 1})

    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert (response.json()["status"], response.json()["memberships"]) == ("registered", [])


def test_a_version_the_human_never_had_is_404(client: Client, given: Humans) -> None:
    human_id = given.member()

    problem(client.get(f"/humans/{human_id}", params={"version": 7}), 404, "version-not-found")


def test_a_human_as_of_an_instant(client: Client, given: Humans) -> None:
    human_id = given.register()
    time.sleep(0.01)
    between = datetime.now(UTC).isoformat()
    time.sleep(0.01)
    client.post(f"/humans/{human_id}/join", json={"on": "2020-01-01", "role": "clerk"})

    before = client.get(f"/humans/{human_id}", params={"as_of": between})
    now = client.get(f"/humans/{human_id}", params={"as_of": datetime.now(UTC).isoformat()})

    assert (before.json()["version"], before.json()["status"]) == (1, "registered")
    assert (now.json()["version"], now.json()["status"]) == (2, "member")


def test_a_human_as_of_before_it_existed_is_404(client: Client, given: Humans) -> None:
    human_id = given.register()

    response = client.get(f"/humans/{human_id}", params={"as_of": "2000-01-01T00:00:00Z"})

    problem(response, 404, "human-not-found")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"as_of": "2026-01-01T00:00:00"}, "as_of"),  # naive: no offset
        ({"as_of": "yesterday"}, "as_of"),
        ({"version": "two"}, "version"),
        ({"version": 0}, "version"),
        ({"version": 2**63}, "version"),
        ({"version": 1, "as_of": "2026-01-01T00:00:00Z"}, "as_of"),
    ],
)
def test_bad_query_parameters_are_400_naming_them(
    client: Client, given: Humans, params: dict[str, Any], field: str
) -> None:
    human_id = given.register()

    response = client.get(f"/humans/{human_id}", params=params)

    body = problem(response, 400, response.json()["rule"], field)
    assert body["rule"] in ("invalid-query", "invalid-request")


def test_an_unknown_human_is_404(client: Client) -> None:
    problem(client.get(f"/humans/{uuid.uuid4()}"), 404, "human-not-found")
    problem(client.get(f"/humans/{uuid.uuid4()}/events"), 404, "human-not-found")


def test_a_history_pages_by_sequence(client: Client, given: Humans) -> None:
    human_id = given.member()
    for day in range(2, 7):
        client.post(f"/humans/{human_id}/attend", json={"on": f"2020-01-0{day}"})

    first = client.get(f"/humans/{human_id}/events", params={"limit": 4}).json()
    rest = client.get(f"/humans/{human_id}/events", params={"after": first["next"]}).json()

    assert [e["sequence"] for e in first["events"]] == [1, 2, 3, 4]
    assert first["next"] == 4
    assert [e["sequence"] for e in rest["events"]] == [5, 6, 7]
    assert rest["next"] is None
    event = first["events"][1]
    assert set(event) == EVENT_KEYS
    assert (event["name"], event["subject"], event["payload"]["role"]) == (
        "HUMAN_JOINED",
        human_id,
        "psychohistorian",
    )
    assert event["time"].endswith("Z")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 10_001}, "limit"),
        ({"limit": 10**30}, "limit"),
        ({"after": -1}, "after"),
        ({"after": 2**63}, "after"),
        ({"after": "x"}, "after"),
        ({"name": "NOT_AN_EVENT"}, "name"),
    ],
)
def test_bad_paging_is_400_naming_the_parameter(
    client: Client, params: dict[str, Any], field: str
) -> None:
    response = client.get("/events", params=params)

    assert response.status_code == 400, response.text
    assert response.json()["field"] == field


def _burn_positions(database_url: str, count: int) -> None:
    """Leave a gap in the log, as rolled-back transactions do."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        for _ in range(count):
            conn.execute("SELECT nextval(pg_get_serial_sequence('hot_events', 'notification_id'))")


def test_paging_the_log_across_gaps_skips_nothing(
    client: Client, given: Humans, module_database_url: str
) -> None:
    start = client.get("/events", params={"after": 0, "limit": 10_000}).json()["events"]
    after = start[-1]["position"] if start else 0
    expected: list[str] = []
    for _ in range(4):
        human_id = given.member()  # each registration also writes an internal email claim
        expected += [human_id, human_id]
        _burn_positions(module_database_url, 3)

    seen: list[dict[str, Any]] = []
    cursor: int | None = after
    while cursor is not None:
        page = client.get("/events", params={"after": cursor, "limit": 3}).json()
        seen += page["events"]
        cursor = page["next"]

    assert [e["subject"] for e in seen] == expected
    positions = [e["position"] for e in seen]
    assert positions == sorted(positions)
    assert len(set(positions)) == len(positions)
    assert any(b - a > 1 for a, b in itertools.pairwise(positions))  # gaps


def test_the_log_filters_by_event_name(client: Client, given: Humans) -> None:
    human_id = given.member()
    client.post(f"/humans/{human_id}/leave", json={"on": "2020-03-01"})

    page = client.get(
        "/events", params=[("name", "HUMAN_LEFT"), ("name", "HUMAN_JOINED"), ("limit", "10000")]
    ).json()

    mine = [e["name"] for e in page["events"] if e["subject"] == human_id]
    assert mine == ["HUMAN_JOINED", "HUMAN_LEFT"]
    assert {e["name"] for e in page["events"]} <= {"HUMAN_JOINED", "HUMAN_LEFT"}


def test_the_catalog_lists_every_event_type(client: Client) -> None:
    response = client.get("/catalog", headers={"Authorization": ""})

    names = {e["name"] for e in response.json()["events"]}
    assert response.status_code == 200
    assert names == set(PUBLIC_NAMES)
    joined = next(e for e in response.json()["events"] if e["name"] == "HUMAN_JOINED")
    assert joined["version"] >= 1
    assert joined["description"]
    assert set(joined["schema"]["properties"]) >= {"on", "role"}


def test_the_asyncapi_document_describes_the_streams_of_the_apps_prefix(
    humans: HumansApplication, api_keys: ApiKeyStore
) -> None:
    with TestClient(create_app(humans, api_keys, stream_prefix="trantor")) as anonymous:
        response = anonymous.get("/catalog/asyncapi.json")

    document = response.json()
    assert response.status_code == 200
    assert document["asyncapi"].startswith("3.")
    assert document["channels"]["events"]["address"] == "trantor:events"


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("/events", "limt=10"),
        ("/events", "=null"),
        ("/humans/{id}", "verison=1"),
        ("/humans/{id}/events", "name=HUMAN_JOINED"),
    ],
)
def test_an_unknown_query_parameter_is_400_naming_it(
    client: Client, given: Humans, path: str, query: str
) -> None:
    human_id = given.register()

    response = client.get(f"{path.replace('{id}', human_id)}?{query}")

    body = problem(response, 400, "invalid-query")
    assert body["field"] == query.split("=")[0]


@pytest.mark.parametrize("path", ["/events", "/humans/{id}/events"])
def test_a_negative_min_position_is_400_naming_it(client: Client, given: Humans, path: str) -> None:
    human_id = given.register()

    response = client.get(f"{path.replace('{id}', human_id)}?min_position=-1")

    body = problem(response, 400, "invalid-query")
    assert body["field"] == "min_position"


@pytest.mark.parametrize("path", ["/events", "/humans/{id}/events"])
def test_min_position_on_the_primary_alone_reads_as_without_it(
    client: Client, given: Humans, path: str
) -> None:
    human_id = given.register()
    url = path.replace("{id}", human_id)

    plain, at_least = client.get(url), client.get(url, params={"min_position": 10**12})

    assert at_least.status_code == 200, at_least.text
    assert at_least.json() == plain.json()


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/events", "after=5&after=0", "after"),
        ("/events", "limit=1&limit=2", "limit"),
        ("/humans/{id}/events", "after=0&after=0", "after"),
        ("/humans/{id}", "version=1&version=1", "version"),
    ],
)
def test_a_query_parameter_of_one_value_given_twice_is_400_naming_it(
    client: Client, given: Humans, path: str, query: str, field: str
) -> None:
    human_id = given.register()

    response = client.get(f"{path.replace('{id}', human_id)}?{query}")

    body = problem(response, 400, "invalid-query")
    assert body["field"] == field
    assert "more than once" in body["detail"]


@pytest.mark.parametrize("after", ["0.0", "1e3", "", "+1", " 1"])
def test_a_position_that_is_not_a_whole_number_is_refused(client: Client, after: str) -> None:
    response = client.get(f"/events?after={after}")

    assert response.status_code in {400, 422}, response.text
    assert response.headers["content-type"].startswith("application/problem+json")


def test_names_may_be_given_more_than_once(client: Client, given: Humans) -> None:
    given.register()

    response = client.get("/events?name=HUMAN_REGISTERED&name=HUMAN_JOINED")

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("path", "query", "field"),
    [
        ("/humans/{id}", "version=0", "version"),
        ("/humans/{id}", "version=1.0", "version"),
        ("/events", "limit=0", "limit"),
        ("/events", "limit=10001", "limit"),
        ("/events", "after=-1", "after"),
        ("/humans/{id}/events", "limit=0", "limit"),
    ],
)
def test_a_value_out_of_range_is_told_as_a_malformed_one_is(
    client: Client, given: Humans, path: str, query: str, field: str
) -> None:
    """Each parameter is checked in one place: a version of 0 and one of 1.0 are both
    refused as the query they are (``invalid-query``), naming the parameter."""
    human_id = given.register()

    response = client.get(f"{path.replace('{id}', human_id)}?{query}")

    body = problem(response, 400, "invalid-query")
    assert body["field"] == field
