"""The typed commands over HTTP: answers, headers, and every error a command can get."""

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


def test_registering_answers_201_with_location_and_etag(client: Client) -> None:
    response = client.post(
        "/humans", json={"name": "Hari Seldon", "email": new_email(), "kind": "employee"}
    )

    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1
    assert body["position"] >= 1
    assert response.headers["location"] == f"/humans/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert client.get(response.headers["location"]).json()["name"] == "Hari Seldon"


def test_every_command_records_its_event(client: Client, given: Humans) -> None:
    human_id = given.register()

    steps = [
        ("post", f"/humans/{human_id}/join", {"on": "2020-01-01", "role": "archivist"}),
        ("post", f"/humans/{human_id}/attend", {"on": "2020-01-02"}),
        ("patch", f"/humans/{human_id}", {"name": "Gaal Dornick"}),
        ("post", f"/humans/{human_id}/leave", {"on": "2020-02-01", "reason": "exile"}),
    ]
    for version, (method, path, body) in enumerate(steps, start=2):
        response = client.request(method, path, json=body)
        assert response.status_code == 200, response.text
        assert response.json()["version"] == version
        assert response.headers["etag"] == f'"{version}"'

    names = [e["name"] for e in given.events(human_id)]
    assert names == [
        "HUMAN_REGISTERED",
        "HUMAN_JOINED",
        "HUMAN_ATTENDED",
        "HUMAN_DETAILS_CHANGED",
        "HUMAN_LEFT",
    ]
    human = client.get(f"/humans/{human_id}").json()
    assert (human["name"], human["status"]) == ("Gaal Dornick", "former")


def test_an_unknown_human_is_404(client: Client) -> None:
    response = client.post(f"/humans/{uuid.uuid4()}/attend", json={"on": "2020-01-01"})

    problem(response, 404, "human-not-found")


@pytest.mark.parametrize(
    ("path", "body", "rule"),
    [
        ("join", {"on": "2020-06-01", "role": "again"}, "already-member"),
        ("attend", {"on": "2019-01-01"}, "attendance-outside-membership"),
        ("attend", {"on": "2999-01-01"}, "attendance-in-future"),
        ("leave", {"on": "2019-12-31"}, "leave-before-join"),
    ],
)
def test_a_rule_violation_is_409_naming_the_rule(
    client: Client, given: Humans, path: str, body: dict[str, str], rule: str
) -> None:
    human_id = given.member(joined_on="2020-01-01")

    response = client.post(f"/humans/{human_id}/{path}", json=body)

    problem(response, 409, rule)
    assert len(given.events(human_id)) == 2  # nothing recorded


def test_a_taken_email_is_409(client: Client) -> None:
    email = new_email()
    first = client.post("/humans", json={"name": "A", "email": email, "kind": "guest"})
    assert first.status_code == 201

    second = client.post("/humans", json={"name": "B", "email": email, "kind": "guest"})

    problem(second, 409, "email-taken")


def test_changing_nothing_is_409(client: Client, given: Humans) -> None:
    human_id = given.register(name="Salvor Hardin")

    problem(
        client.patch(f"/humans/{human_id}", json={"name": "Salvor Hardin"}), 409, "nothing-changed"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "   ", "email": "x@y.org", "kind": "guest"}, "name"),
        ({"name": "X", "email": "not-an-email", "kind": "guest"}, "email"),
    ],
)
def test_details_the_domain_refuses_are_422_naming_the_field(
    client: Client, body: dict[str, str], field: str
) -> None:
    problem(client.post("/humans", json=body), 422, "invalid-details", field)


def test_every_detail_the_domain_refuses_is_listed_and_nothing_is_recorded(
    client: Client, humans: HumansApplication
) -> None:
    head = humans.head()
    body = {"name": " ", "email": "not-an-email", "kind": "guest"}

    refused = problem(client.post("/humans", json=body), 422, "invalid-details", "name")

    assert [e["field"] for e in refused["errors"]] == ["name", "email"]
    assert "A name must not be blank." in refused["detail"]
    assert "'not-an-email' is not an email address." in refused["detail"]
    assert humans.head() == head


def test_every_detail_refused_on_a_change_is_listed(client: Client, given: Humans) -> None:
    human_id = given.register()

    body = {"name": "", "email": "salvor@"}
    refused = problem(client.patch(f"/humans/{human_id}", json=body), 422, "invalid-details")

    assert [e["field"] for e in refused["errors"]] == ["name", "email"]
    assert len(given.events(human_id)) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "email": "x@y.org"}, "kind"),
        ({"name": "X", "email": "x@y.org", "kind": "robot"}, "kind"),
        ({"name": 5, "email": "x@y.org", "kind": "guest"}, "name"),
        ({"name": "X", "email": "x@y.org", "kind": "guest", "extra": 1}, "extra"),
        ({"name": "X" * 201, "email": "x@y.org", "kind": "guest"}, "name"),
    ],
)
def test_a_body_of_the_wrong_shape_is_422_naming_the_field(
    client: Client, body: dict[str, Any], field: str
) -> None:
    problem(client.post("/humans", json=body), 422, "invalid-body", field)


@pytest.mark.parametrize(
    "on", ["2020-13-01", "2020-02-30", "01/02/2020", "2020-01-01T00:00:00", 20200101, None, ""]
)
def test_a_bad_date_is_422_naming_the_field(client: Client, given: Humans, on: Any) -> None:
    human_id = given.member()

    problem(client.post(f"/humans/{human_id}/attend", json={"on": on}), 422, "invalid-body", "on")


@pytest.mark.parametrize("body", [b"{", b"[1, 2]", b"", b"null", b"\xff\xfe", b'"text"'])
def test_a_body_that_is_not_a_json_object_is_a_4xx_problem(
    client: Client, given: Humans, body: bytes
) -> None:
    human_id = given.member()

    response = client.post(
        f"/humans/{human_id}/attend", content=body, headers={"content-type": "application/json"}
    )

    assert response.status_code in (400, 422), response.text
    assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("bad_id", ["nope", "123", "00000000-0000-0000-0000-00000000000Z"])
def test_a_malformed_id_in_the_path_is_400_naming_it(client: Client, bad_id: str) -> None:
    problem(
        client.post(f"/humans/{bad_id}/attend", json={"on": "2020-01-01"}),
        400,
        "invalid-request",
        "human_id",
    )


def test_a_body_nested_too_deeply_is_400(client: Client) -> None:
    deep = "[" * 20_000 + "]" * 20_000
    body = (
        f'{{"id": "{uuid.uuid4()}", "name": "HUMAN_REGISTERED", "version": 1, "payload": {deep}}}'
    )

    response = client.post("/events", content=body, headers={"content-type": "application/json"})

    problem(response, 400, "malformed-request")


def test_a_huge_body_is_refused(client: Client) -> None:
    body = {"name": "X", "email": "x@y.org", "kind": "guest", "pad": "x" * 200_000}

    response = client.post("/humans", json=body)

    refused = problem(response, 413, "body-too-large", "body")
    assert refused["limit"] == 65536
    assert "65536 bytes" in refused["detail"]


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
def test_a_body_not_sent_as_json_is_415_and_records_nothing(
    client: Client, given: Humans, content_type: str | None
) -> None:
    human_id = given.member()
    before = client.get(f"/humans/{human_id}").json()["version"]
    headers = {"content-type": content_type} if content_type else {}

    response = client.post(
        f"/humans/{human_id}/attend", content=b'{"on": "2020-01-02"}', headers=headers
    )

    refused = problem(response, 415, "unsupported-media-type", "Content-Type")
    assert "application/json" in refused["detail"]
    assert client.get(f"/humans/{human_id}").json()["version"] == before


def test_json_with_a_charset_or_a_json_suffix_is_json(client: Client, given: Humans) -> None:
    human_id = given.member()
    for day, content_type in (
        ("2020-01-02", "application/json; charset=utf-8"),
        ("2020-01-03", "application/merge-patch+json"),
    ):
        response = client.post(
            f"/humans/{human_id}/attend",
            content=f'{{"on": "{day}"}}'.encode(),
            headers={"content-type": content_type},
        )
        assert response.status_code == 200, response.text


# If-Match ----------------------------------------------------------------------------


def test_if_match_with_the_current_version_succeeds(client: Client, given: Humans) -> None:
    human_id = given.member()  # version 2

    response = client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers={"If-Match": '"2"'}
    )

    assert response.status_code == 200
    assert response.headers["etag"] == '"3"'


def test_if_match_with_an_old_version_is_412_and_records_nothing(
    client: Client, given: Humans
) -> None:
    human_id = given.member()  # version 2

    response = client.patch(
        f"/humans/{human_id}", json={"name": "Late"}, headers={"If-Match": '"1"'}
    )

    problem(response, 412, "version-mismatch")
    assert len(given.events(human_id)) == 2


def test_if_match_star_matches_any_version(client: Client, given: Humans) -> None:
    human_id = given.member()

    response = client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-03"}, headers={"If-Match": "*"}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("value", ["2", 'W/"2"', '"two"', '"1", "2"', '""'])
def test_a_malformed_if_match_is_400_naming_the_header(
    client: Client, given: Humans, value: str
) -> None:
    human_id = given.member()

    response = client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers={"If-Match": value}
    )

    body = problem(response, 400, "invalid-request", "If-Match")
    assert [e["field"] for e in body["errors"]] == ["If-Match"]  # one name for the header
    assert (
        body["errors"][0]["message"]
        == 'Expected an ETag such as "3" (quotes included, up to 15 digits), or *.'
    )
    assert "regex" not in body["detail"]


def test_the_etag_of_a_read_is_the_if_match_of_a_write(client: Client, given: Humans) -> None:
    human_id = given.member()
    etag = client.get(f"/humans/{human_id}").headers["etag"]

    ok = client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-05"}, headers={"If-Match": etag}
    )
    stale = client.post(
        f"/humans/{human_id}/attend", json={"on": "2020-01-06"}, headers={"If-Match": etag}
    )

    assert ok.status_code == 200
    problem(stale, 412, "version-mismatch")
