"""Finding a human by email or by external id, and setting external ids, over HTTP.

``GET /humans?email=`` and ``GET /humans?external_id=<scheme>:<value>`` answer
``{"humans": [...]}`` with none or one human, as ``GET /humans/{id}`` shows them; an
external id is set by ``PUT /humans/{id}/external-ids/{scheme}`` and is unique in its
scheme, as an email is among humans.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore, Scope
from hot_follow.representation import MASKED
from tests.api.conftest import Humans, Tokens, bearer, new_email, problem
from tests.plaintext import plaintext_anywhere

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]


@pytest.fixture(scope="module")
def personal(api_keys: ApiKeyStore) -> str:
    """A token that may read, personal fields included."""
    return api_keys.create(f"hr-{uuid.uuid4().hex[:6]}", [Scope.READ, Scope.PERSONAL])


def new_code() -> str:
    return f"E{uuid.uuid4().hex[:10]}"


def set_id(client: Client, human_id: str, scheme: str, value: str, **headers: str) -> Any:
    return client.put(
        f"/humans/{human_id}/external-ids/{scheme}", json={"value": value}, headers=headers
    )


def found(client: Client, token: str | None = None, **query: str) -> list[dict[str, Any]]:
    """The humans a lookup answers (asserting it answered 200)."""
    headers = bearer(token) if token is not None else {}
    response = client.get("/humans", params=query, headers=headers)
    assert response.status_code == 200, response.text
    assert set(response.json()) == {"humans"}
    return list(response.json()["humans"])


def registered(client: Client, email: str) -> str:
    body = {"name": "Salvor Hardin", "email": email, "kind": "employee"}
    response = client.post("/humans", json=body)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


# By email -----------------------------------------------------------------------------------


def test_a_human_is_found_by_email_as_get_human_shows_them(client: Client) -> None:
    email = new_email()
    human_id = registered(client, email)

    (human,) = found(client, email=email)

    assert human == client.get(f"/humans/{human_id}").json()
    assert (human["id"], human["email"], human["external_ids"]) == (human_id, email, {})


def test_an_email_is_found_whatever_its_case_and_surrounding_spaces(client: Client) -> None:
    email = new_email()
    human_id = registered(client, email)

    assert [h["id"] for h in found(client, email=f" {email.upper()} ")] == [human_id]


def test_an_email_nobody_holds_finds_no_one(client: Client, given: Humans) -> None:
    given.register()

    assert found(client, email=new_email()) == []
    assert found(client, email="not an email") == []


def test_an_email_given_up_finds_no_one_and_the_new_one_finds_the_human(client: Client) -> None:
    old, new = new_email(), new_email()
    human_id = registered(client, old)

    assert client.patch(f"/humans/{human_id}", json={"email": new}).status_code == 200

    assert found(client, email=old) == []
    assert [h["id"] for h in found(client, email=new)] == [human_id]


# External ids -------------------------------------------------------------------------------


def test_an_external_id_is_set_like_any_command_and_found(client: Client, given: Humans) -> None:
    human_id = given.register()
    code = new_code()

    response = set_id(client, human_id, "ecode", code)

    assert response.status_code == 200, response.text
    assert set(response.json()) == {"id", "version", "position"}
    assert (response.json()["id"], response.json()["version"]) == (human_id, 2)
    assert response.headers["etag"] == '"2"'
    (human,) = found(client, external_id=f"ecode:{code}")
    assert human == client.get(f"/humans/{human_id}").json()
    assert (human["id"], human["external_ids"]) == (human_id, {"ecode": code})
    (event,) = given.events(human_id)[1:]
    assert (event["name"], event["payload"]) == (
        "HUMAN_EXTERNAL_ID_SET",
        {"scheme": "ecode", "value": code},
    )


def test_an_external_id_is_found_exactly_but_for_surrounding_spaces(
    client: Client, given: Humans
) -> None:
    human_id, code = given.register(), new_code()
    assert set_id(client, human_id, "ecode", code).status_code == 200

    assert found(client, external_id=f"ecode:{code.lower()}") == []
    assert found(client, external_id=f"badge:{code}") == []
    assert found(client, external_id=f"ecode:{code}x") == []
    assert [h["id"] for h in found(client, external_id=f"ecode:{code}")] == [human_id]
    assert [h["id"] for h in found(client, external_id=f"ecode: {code} ")] == [human_id]


def test_a_value_may_hold_colons(client: Client, given: Humans) -> None:
    human_id, code = given.register(), f"urn:x:{new_code()}"
    assert set_id(client, human_id, "ldap", code).status_code == 200

    assert [h["id"] for h in found(client, external_id=f"ldap:{code}")] == [human_id]


def test_a_new_value_replaces_the_old_which_another_human_can_then_take(
    client: Client, given: Humans
) -> None:
    first, second = given.register(), given.register()
    old, new = new_code(), new_code()
    assert set_id(client, first, "ecode", old).status_code == 200
    assert set_id(client, first, "github", old).status_code == 200

    assert set_id(client, first, "ecode", new).status_code == 200

    assert client.get(f"/humans/{first}").json()["external_ids"] == {"ecode": new, "github": old}
    assert found(client, external_id=f"ecode:{old}") == []
    assert set_id(client, second, "ecode", old).status_code == 200
    assert [h["id"] for h in found(client, external_id=f"ecode:{old}")] == [second]
    assert [h["id"] for h in found(client, external_id=f"ecode:{new}")] == [first]


def test_a_value_another_human_holds_in_the_scheme_is_409_and_records_nothing(
    client: Client, humans: HumansApplication, given: Humans
) -> None:
    holder, other = given.register(), given.register()
    code = new_code()
    assert set_id(client, holder, "ecode", code).status_code == 200
    head = humans.head()

    taken = set_id(client, other, "ecode", f" {code} ")

    body = problem(taken, 409, "external-id-taken")
    assert code not in body["detail"]  # personal data: the problem names the scheme only
    assert humans.head() == head
    assert [h["id"] for h in found(client, external_id=f"ecode:{code}")] == [holder]
    assert set_id(client, other, "badge", code).status_code == 200  # another scheme


def test_setting_the_value_held_again_is_409_nothing_changed(client: Client, given: Humans) -> None:
    human_id, code = given.register(), new_code()
    assert set_id(client, human_id, "ecode", code).status_code == 200

    problem(set_id(client, human_id, "ecode", code), 409, "nothing-changed")
    assert client.get(f"/humans/{human_id}").json()["version"] == 2


def test_forgetting_frees_the_email_and_external_ids_for_others(
    client: Client, given: Humans
) -> None:
    email, code = new_email(), new_code()
    human_id = registered(client, email)
    assert set_id(client, human_id, "ecode", code).status_code == 200

    assert client.post(f"/humans/{human_id}/forget").status_code == 200

    assert found(client, email=email) == []
    assert found(client, external_id=f"ecode:{code}") == []
    assert client.get(f"/humans/{human_id}").json()["external_ids"] == {}
    other = given.register()
    assert set_id(client, other, "ecode", code).status_code == 200
    assert [h["id"] for h in found(client, external_id=f"ecode:{code}")] == [other]
    problem(set_id(client, human_id, "badge", code), 410, "human-forgotten")


def test_the_value_is_sealed_in_postgresql_and_gone_after_forgetting(
    client: Client, given: Humans, module_database_url: str
) -> None:
    human_id, code = given.register(), new_code()
    assert set_id(client, human_id, "ecode", code).status_code == 200

    assert plaintext_anywhere(module_database_url, code) == []
    assert client.post(f"/humans/{human_id}/forget").status_code == 200
    assert plaintext_anywhere(module_database_url, code) == []
    assert code not in client.get(f"/humans/{human_id}/events").text


def test_the_value_is_masked_without_the_personal_scope(
    client: Client, tokens: Tokens, personal: str, given: Humans
) -> None:
    human_id, code = given.register(), new_code()
    email = client.get(f"/humans/{human_id}").json()["email"]
    assert set_id(client, human_id, "ecode", code).status_code == 200

    state = client.get(f"/humans/{human_id}", headers=bearer(tokens.read)).json()
    (by_email,) = found(client, tokens.read, email=email)
    (by_id,) = found(client, tokens.read, external_id=f"ecode:{code}")
    history = client.get(f"/humans/{human_id}/events", headers=bearer(tokens.read)).json()

    for human in (state, by_email, by_id):
        assert (human["name"], human["email"]) == (MASKED, MASKED)
        assert human["external_ids"] == {"ecode": MASKED}
    assert history["events"][-1]["payload"] == {"scheme": "ecode", "value": MASKED}
    (shown,) = found(client, personal, external_id=f"ecode:{code}")
    assert (shown["email"], shown["external_ids"]) == (email, {"ecode": code})


def test_if_match_and_idempotency_key_hold_as_on_every_command(
    client: Client, humans: HumansApplication, given: Humans
) -> None:
    human_id, code = given.register(), new_code()
    key = f"ecode-{uuid.uuid4()}"

    stale = set_id(client, human_id, "ecode", code, **{"If-Match": '"7"'})
    first = set_id(client, human_id, "ecode", code, **{"If-Match": '"1"', "Idempotency-Key": key})
    head = humans.head()
    retry = set_id(client, human_id, "ecode", code, **{"Idempotency-Key": key})
    other = set_id(client, human_id, "ecode", new_code(), **{"Idempotency-Key": key})

    problem(stale, 412, "version-mismatch")
    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    problem(other, 422, "idempotency-key-reused")
    assert humans.head() == head


def test_an_envelope_sets_an_external_id(client: Client, given: Humans) -> None:
    human_id, code = given.register(), new_code()
    envelope = {
        "id": str(uuid.uuid4()),
        "name": "HUMAN_EXTERNAL_ID_SET",
        "version": 1,
        "payload": {"human_id": human_id, "scheme": "ecode", "value": code},
    }

    first = client.post("/events", json=envelope)
    again = client.post("/events", json=envelope)

    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json() == first.json()
    assert [h["id"] for h in found(client, external_id=f"ecode:{code}")] == [human_id]
    bad = {**envelope, "id": str(uuid.uuid4()), "payload": {**envelope["payload"], "scheme": "X"}}
    problem(client.post("/events", json=bad), 422, "invalid-details", "scheme")


def test_setting_needs_write_and_finding_needs_read(
    client: Client, tokens: Tokens, given: Humans
) -> None:
    human_id = given.register()

    refused = set_id(client, human_id, "ecode", new_code(), **bearer(tokens.read))
    allowed = set_id(client, human_id, "ecode", new_code(), **bearer(tokens.write))

    problem(refused, 403, "forbidden")
    assert allowed.status_code == 200, allowed.text
    found(client, tokens.read, email=new_email())
    problem(
        client.get("/humans", params={"email": new_email()}, headers={"Authorization": ""}),
        401,
        "unauthorized",
    )


# Refused ------------------------------------------------------------------------------------


@pytest.mark.parametrize("scheme", ["Ecode", "1code", "e.code", "e" * 33])
def test_a_bad_scheme_is_400(client: Client, given: Humans, scheme: str) -> None:
    human_id = given.register()

    problem(set_id(client, human_id, scheme, "E1"), 400, "invalid-request", "scheme")
    problem(
        client.get("/humans", params={"external_id": f"{scheme}:E1"}),
        400,
        "invalid-query",
        "external_id",
    )


@pytest.mark.parametrize("value", ["", "  ", "E\x001", "E\t1", "v" * 129])
def test_a_bad_value_is_422_naming_it(client: Client, given: Humans, value: str) -> None:
    human_id = given.register()

    problem(set_id(client, human_id, "ecode", value), 422, "invalid-details", "value")


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"email": "a@b.cd", "external_id": "ecode:E1"},
        {"external_id": "ecode"},
        {"external_id": ":E1"},
    ],
    ids=["neither", "both", "no-colon", "no-scheme"],
)
def test_a_lookup_names_one_email_or_one_external_id(client: Client, query: dict[str, str]) -> None:
    body = problem(client.get("/humans", params=query), 400, "invalid-query")

    assert body["field"] in {"email", "external_id"}
    assert body["field"] in body["detail"] or "scheme" in body["detail"]


def test_an_unknown_human_is_404(client: Client) -> None:
    problem(set_id(client, str(uuid.uuid4()), "ecode", new_code()), 404, "human-not-found")


def test_options_on_humans_lists_the_lookup_and_the_registration(client: Client) -> None:
    response = client.options("/humans")

    assert response.status_code == 204
    assert response.headers["allow"] == "GET, POST, OPTIONS"
