"""Personal data over HTTP: masked for readers without the ``personal`` scope on every
read (state, history, log, live feed), and forgotten for good by ``POST .../forget``."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication, IdempotencyKey
from hot.application.deciding import DecidingState
from hot.cli import main
from hot.domain import FORGOTTEN
from hot.infra.api_keys import ApiKeyStore, Scope
from hot.infra.postgres_log import PostgresLog
from hot_follow import Feed
from hot_follow.representation import MASKED
from tests.api.conftest import Humans, Tokens, bearer, new_email, problem
from tests.blocking import blocking_application, run
from tests.serving import free_port, served

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]


@pytest.fixture(scope="module")
def personal(api_keys: ApiKeyStore) -> str:
    """A token that may read, personal fields included (but not write, nor forget)."""
    return api_keys.create(f"hr-{uuid.uuid4().hex[:6]}", [Scope.READ, Scope.PERSONAL])


@pytest.fixture(scope="module")
def admin_name(api_keys: ApiKeyStore, tokens: Tokens) -> str:
    grant = api_keys.identify(tokens.admin)
    assert grant is not None
    return grant.name


@pytest.fixture
def life(client: Client) -> dict[str, Any]:
    """A human who registered, joined, changed details and left (with a reason)."""
    name, email, renamed = f"Gaal {uuid.uuid4().hex[:8]}", new_email(), new_email()
    created = client.post("/humans", json={"name": name, "email": email, "kind": "employee"})
    human_id = created.json()["id"]
    first = created.json()["position"]
    for call in (
        lambda: client.post(f"/humans/{human_id}/join", json={"on": "2020-01-01", "role": "clerk"}),
        lambda: client.patch(f"/humans/{human_id}", json={"email": renamed}),
        lambda: client.post(
            f"/humans/{human_id}/leave", json={"on": "2020-06-30", "reason": "moved to Terminus"}
        ),
    ):
        assert call().status_code == 200
    secrets = (name, email, renamed, "moved to Terminus")
    return {"id": human_id, "first": first, "secrets": secrets, "name": name, "email": renamed}


def reads(client: Client, human_id: str, first: int, token: str) -> dict[str, httpx.Response]:
    """Every read endpoint's answer about the human, with ``token``."""
    headers = bearer(token)
    now = datetime.now(UTC).isoformat()
    return {
        "state": client.get(f"/humans/{human_id}", headers=headers),
        "version": client.get(f"/humans/{human_id}", params={"version": 1}, headers=headers),
        "as_of": client.get(f"/humans/{human_id}", params={"as_of": now}, headers=headers),
        "history": client.get(f"/humans/{human_id}/events", headers=headers),
        "log": client.get("/events", params={"after": first - 1, "limit": 1000}, headers=headers),
    }


def own_events(response: httpx.Response, human_id: str) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return [e for e in response.json()["events"] if e["subject"] == human_id]


def test_a_reader_without_personal_sees_personal_fields_masked_everywhere(
    client: Client, tokens: Tokens, life: dict[str, Any]
) -> None:
    answers = reads(client, life["id"], life["first"], tokens.read)

    for kind in ("state", "version", "as_of"):
        human = answers[kind].json()
        assert answers[kind].status_code == 200
        assert (human["name"], human["email"]) == (MASKED, MASKED), kind
        assert human["kind"] == "employee"
    for kind in ("history", "log"):
        events = own_events(answers[kind], life["id"])
        assert [e["name"] for e in events] == [
            "HUMAN_REGISTERED",
            "HUMAN_JOINED",
            "HUMAN_DETAILS_CHANGED",
            "HUMAN_LEFT",
        ]
        registered, joined, changed, left = (e["payload"] for e in events)
        assert (registered["name"], registered["email"]) == (MASKED, MASKED)
        assert joined["role"] == "clerk"
        assert (changed["name"], changed["email"]) == (None, MASKED)  # null stays null
        assert (left["reason"], left["on"]) == (MASKED, "2020-06-30")
    for kind, response in answers.items():
        for secret in life["secrets"]:
            assert secret not in response.text, (kind, secret)


@pytest.mark.parametrize("who", ["personal", "admin"])
def test_a_reader_with_personal_or_admin_sees_them(
    client: Client, tokens: Tokens, personal: str, life: dict[str, Any], who: str
) -> None:
    token = personal if who == "personal" else tokens.admin
    answers = reads(client, life["id"], life["first"], token)

    assert (answers["state"].json()["name"], answers["state"].json()["email"]) == (
        life["name"],
        life["email"],
    )
    assert answers["version"].json()["email"] == life["secrets"][1]
    assert answers["as_of"].json()["name"] == life["name"]
    for kind in ("history", "log"):
        payloads = [e["payload"] for e in own_events(answers[kind], life["id"])]
        assert payloads[0]["email"] == life["secrets"][1]
        assert payloads[2]["email"] == life["email"]
        assert payloads[3]["reason"] == "moved to Terminus"


def test_the_personal_scope_grants_no_writing(client: Client, personal: str) -> None:
    body = {"name": "Hober Mallow", "email": new_email(), "kind": "employee"}
    problem(client.post("/humans", json=body, headers=bearer(personal)), 403, "forbidden")


def test_keys_create_takes_the_personal_scope(database_url: str, tmp_path: Any) -> None:
    env = {"HOT_DATABASE_URL": database_url, "HOT_DATA_DIR": str(tmp_path)}

    created = CliRunner().invoke(
        main, ["keys", "create", "hr", "--scope", "read", "--scope", "personal"], env=env
    )

    assert created.exit_code == 0, created.output
    with ApiKeyStore(database_url) as api_keys:
        assert api_keys.verify(created.output.strip()) == {Scope.READ, Scope.PERSONAL}


# Forgetting -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["read", "write", "personal"])
def test_forgetting_needs_admin(
    client: Client, tokens: Tokens, personal: str, life: dict[str, Any], who: str
) -> None:
    token = {"read": tokens.read, "write": tokens.write, "personal": personal}[who]

    problem(client.post(f"/humans/{life['id']}/forget", headers=bearer(token)), 403, "forbidden")
    assert client.get(f"/humans/{life['id']}").json()["name"] == life["name"]


def test_forgetting_an_unknown_human_is_404(client: Client) -> None:
    problem(client.post(f"/humans/{uuid.uuid4()}/forget"), 404, "human-not-found")


def test_forgetting_with_a_stale_if_match_is_412_and_forgets_nothing(
    client: Client, life: dict[str, Any]
) -> None:
    stale = client.post(f"/humans/{life['id']}/forget", headers={"If-Match": '"2"'})
    current = client.post(f"/humans/{life['id']}/forget", headers={"If-Match": '"4"'})

    problem(stale, 412, "version-mismatch")
    assert current.status_code == 200, current.text
    assert current.json()["version"] == 5


def test_a_forgotten_human_appears_in_no_answer_and_the_facts_stay(
    client: Client, tokens: Tokens, personal: str, admin_name: str, life: dict[str, Any]
) -> None:
    human_id = life["id"]
    before = client.get(f"/humans/{human_id}").json()

    forgotten = client.post(f"/humans/{human_id}/forget")

    assert forgotten.status_code == 200, forgotten.text
    assert set(forgotten.json()) == {"id", "version", "position"}
    assert (forgotten.json()["id"], forgotten.json()["version"]) == (human_id, 5)
    assert forgotten.headers["etag"] == '"5"'
    for token in (personal, tokens.admin, tokens.read):
        answers = reads(client, human_id, life["first"], token)
        for kind, response in answers.items():
            assert response.status_code == 200, (kind, response.text)
            for secret in life["secrets"]:
                assert secret not in response.text, (kind, secret)
        shown = FORGOTTEN if token != tokens.read else MASKED
        state = answers["state"].json()
        assert (state["name"], state["email"]) == (shown, shown)
        assert state["memberships"] == before["memberships"]
        assert state["attended_days"] == before["attended_days"]
        events = own_events(answers["history"], human_id)
        assert events[-1]["name"] == "HUMAN_FORGOTTEN"
        assert events[-1]["payload"] == {"by": admin_name}
        assert events[3]["payload"] == {"on": "2020-06-30", "reason": shown}


def test_if_match_holds_until_the_forgetting_commits(
    client: Client, humans: HumansApplication, module_database_url: str, life: dict[str, Any]
) -> None:
    """A write from another process lands after the forgetting checked If-Match and before
    it commits: the forgetting is decided again on the new state, so answers 412."""
    human_id = uuid.UUID(life["id"])
    other_process = blocking_application(module_database_url)
    release = DecidingState.release
    interleaved: list[int] = []

    def release_while_another_writes(state: DecidingState, email: str) -> Any:
        if not interleaved:  # the check passed: another process writes now
            attended = run(other_process.application.attend(human_id, date(2020, 3, 2)))
            interleaved.append(attended.version)
        return release(state, email)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(DecidingState, "release", release_while_another_writes)
            refused = client.post(f"/humans/{human_id}/forget", headers={"If-Match": '"4"'})
    finally:
        other_process.close()

    assert interleaved == [5]
    problem(refused, 412, "version-mismatch")
    state = client.get(f"/humans/{human_id}").json()
    assert (state["version"], state["name"]) == (5, life["name"])


def test_a_retried_forgetting_with_its_key_answers_the_same_and_records_nothing(
    client: Client, humans: HumansApplication, life: dict[str, Any]
) -> None:
    key = {"Idempotency-Key": f"forget-{uuid.uuid4()}"}
    first = client.post(f"/humans/{life['id']}/forget", headers=key)
    head = humans.head()

    retry = client.post(f"/humans/{life['id']}/forget", headers={**key, "If-Match": '"4"'})

    assert first.status_code == retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert retry.headers["etag"] == first.headers["etag"] == '"5"'
    assert humans.head() == head
    problem(client.post(f"/humans/{life['id']}/forget"), 410, "human-forgotten")  # keyless


def test_a_forgetting_key_used_for_another_request_is_422_and_records_nothing(
    client: Client, humans: HumansApplication, life: dict[str, Any], given: Humans
) -> None:
    key = {"Idempotency-Key": f"forget-{uuid.uuid4()}"}
    other = given.member()
    assert client.post(f"/humans/{life['id']}/forget", headers=key).status_code == 200
    head = humans.head()

    another_human = client.post(f"/humans/{other}/forget", headers=key)
    another_command = client.post(f"/humans/{other}/attend", json={"on": "2020-01-02"}, headers=key)

    problem(another_human, 422, "idempotency-key-reused")
    problem(another_command, 422, "idempotency-key-reused")
    assert humans.head() == head
    assert client.get(f"/humans/{other}").json()["version"] == 2


def test_a_command_key_used_for_a_forgetting_is_422_and_forgets_nothing(
    client: Client, given: Humans
) -> None:
    key = {"Idempotency-Key": f"attend-{uuid.uuid4()}"}
    human_id = given.member()
    assert client.post(f"/humans/{human_id}/attend", json={"on": "2020-01-02"}, headers=key)

    problem(client.post(f"/humans/{human_id}/forget", headers=key), 422, "idempotency-key-reused")
    assert client.get(f"/humans/{human_id}").json()["name"] != FORGOTTEN


def test_forgettings_racing_with_one_key_in_two_processes_forget_once(
    client: Client, humans: HumansApplication, module_database_url: str, life: dict[str, Any]
) -> None:
    human_id = uuid.UUID(life["id"])
    key = IdempotencyKey(f"forget-{uuid.uuid4()}", "the same request")
    other_process = blocking_application(module_database_url)
    try:
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda app: app.forget(human_id, by="ops", idempotency=key),
                    [humans, other_process] * 4,
                )
            )
    finally:
        other_process.close()

    assert {(a.id, a.version, a.position) for a in answers} == {
        (answers[0].id, 5, answers[0].position)
    }
    names = [e.name for e in humans.history(human_id)]
    assert names.count("HUMAN_FORGOTTEN") == 1


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/join", {"on": "2021-01-01", "role": "clerk"}),
        ("POST", "/attend", {"on": "2020-03-02"}),
        ("PATCH", "", {"name": "Someone Else"}),
        ("POST", "/forget", None),
    ],
)
def test_every_command_about_a_forgotten_human_is_410(
    client: Client, life: dict[str, Any], method: str, path: str, body: Any
) -> None:
    assert client.post(f"/humans/{life['id']}/forget").status_code == 200

    response = client.request(method, f"/humans/{life['id']}{path}", json=body)

    problem(response, 410, "human-forgotten")


def test_an_envelope_about_a_forgotten_human_is_410(client: Client, life: dict[str, Any]) -> None:
    assert client.post(f"/humans/{life['id']}/forget").status_code == 200
    envelope = {
        "id": str(uuid.uuid4()),
        "name": "HUMAN_ATTENDED",
        "version": 1,
        "payload": {"human_id": life["id"], "on": "2020-03-03"},
    }

    problem(client.post("/events", json=envelope), 410, "human-forgotten")


def test_the_openapi_document_names_the_personal_scope_and_the_forget_route(
    client: Client,
) -> None:
    document = client.get("/schema/openapi.json").json()

    scheme = document["components"]["securitySchemes"]["bearer"]["description"]
    assert "personal" in scheme
    assert "410" in document["paths"]["/humans/{human_id}/forget"]["post"]["responses"]
    assert "personal" in document["paths"]["/humans/{human_id}"]["get"]["description"]


# The live feed ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def live_url(humans: HumansApplication, api_keys: ApiKeyStore) -> Iterator[str]:
    """The whole API with the live feed (over the log only), served by uvicorn."""
    feed = Feed(PostgresLog(humans))
    try:
        with served(create_app(humans, api_keys, feed=feed), free_port()) as url:
            yield url
    finally:
        feed.source.close()


def stream(
    url: str, token: str, after: int, done: Callable[[list[dict[str, Any]]], bool]
) -> tuple[list[dict[str, Any]], str]:
    """The events of the live feed after ``after`` until ``done`` says so, and its raw text."""
    events: list[dict[str, Any]] = []
    raw: list[str] = []
    with httpx.stream(
        "GET", f"{url}/events/stream", params={"after": after}, headers=bearer(token), timeout=10
    ) as reply:
        assert reply.status_code == 200, reply.read()
        for line in reply.iter_lines():
            raw.append(line)
            if line.startswith("data:"):
                events.append(json.loads(line.removeprefix("data:").strip()))
                if done(events):
                    break
    return events, "\n".join(raw)


def has_all(human_id: str, count: int) -> Callable[[list[dict[str, Any]]], bool]:
    return lambda events: sum(e["subject"] == human_id for e in events) >= count


def test_the_live_feed_masks_personal_fields_without_the_scope(
    live_url: str, tokens: Tokens, personal: str, life: dict[str, Any]
) -> None:
    after = life["first"] - 1

    masked, masked_text = stream(live_url, tokens.read, after, has_all(life["id"], 4))
    shown, _ = stream(live_url, personal, after, has_all(life["id"], 4))

    masked = [e for e in masked if e["subject"] == life["id"]]
    shown = [e for e in shown if e["subject"] == life["id"]]
    assert masked[0]["payload"] == {"name": MASKED, "email": MASKED, "kind": "employee"}
    assert masked[3]["payload"] == {"on": "2020-06-30", "reason": MASKED}
    for secret in life["secrets"]:
        assert secret not in masked_text
    assert shown[0]["payload"]["name"] == life["name"]
    assert shown[3]["payload"]["reason"] == "moved to Terminus"


def test_after_forgetting_the_live_feed_shows_none_of_it(
    client: Client, live_url: str, tokens: Tokens, personal: str, life: dict[str, Any]
) -> None:
    assert client.post(f"/humans/{life['id']}/forget").status_code == 200

    events, text = stream(live_url, personal, life["first"] - 1, has_all(life["id"], 5))

    mine = [e for e in events if e["subject"] == life["id"]]
    assert mine[-1]["name"] == "HUMAN_FORGOTTEN"
    assert mine[0]["payload"]["name"] == FORGOTTEN
    for secret in life["secrets"]:
        assert secret not in text
