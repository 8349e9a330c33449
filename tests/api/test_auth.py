"""Bearer tokens and scopes: who may call what; tokens stored only as hashes; CORS."""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore, KeyExistsError, KeyNotFoundError, Scope
from tests.api.conftest import Tokens, bearer, new_email, problem

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]
HUMAN = str(uuid.uuid4())
REGISTER = ("post", "/humans", {"name": "A", "email": "a@b.org", "kind": "guest"})
READS = [
    ("get", f"/humans/{HUMAN}", None),
    ("get", f"/humans/{HUMAN}/events", None),
    ("get", "/events", None),
]
SIGNED_IN = [("get", "/auth/me", None)]  # any valid token, whatever its scopes
WRITES = [
    REGISTER,
    ("post", f"/humans/{HUMAN}/join", {"on": "2020-01-01", "role": "r"}),
    ("post", f"/humans/{HUMAN}/leave", {"on": "2020-01-01"}),
    ("post", f"/humans/{HUMAN}/attend", {"on": "2020-01-01"}),
    ("patch", f"/humans/{HUMAN}", {"name": "B"}),
    ("post", "/events", {"id": HUMAN, "name": "HUMAN_ATTENDED", "version": 1, "payload": {}}),
]
PUBLIC = [
    "/catalog",
    "/catalog/asyncapi.json",
    "/health/live",
    "/health/ready",
    "/schema/openapi.json",
    "/schema",
    "/schema/swagger",
    "/console",
    "/console/main.js",
]


@pytest.fixture
def anonymous(api: Litestar) -> Iterator[Client]:
    with TestClient(api, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(("method", "path", "body"), READS + WRITES + SIGNED_IN)
@pytest.mark.parametrize(
    "authorization", [None, "", "Bearer", "Bearer ", "Bearer hot_not-a-token", "Basic dXNlcjpwdw=="]
)
def test_without_a_valid_token_everything_private_is_401(
    anonymous: Client, method: str, path: str, body: object, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}

    response = anonymous.request(method, path, json=body, headers=headers)

    problem(response, 401, "unauthorized")
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", PUBLIC)
def test_public_endpoints_need_no_token(anonymous: Client, path: str) -> None:
    assert anonymous.get(path).status_code == 200


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
def test_a_read_token_cannot_write(
    anonymous: Client, tokens: Tokens, method: str, path: str, body: object
) -> None:
    response = anonymous.request(method, path, json=body, headers=bearer(tokens.read))

    problem(response, 403, "forbidden")


@pytest.mark.parametrize(("method", "path", "body"), READS)
def test_a_write_token_cannot_read(
    anonymous: Client, tokens: Tokens, method: str, path: str, body: object
) -> None:
    problem(anonymous.request(method, path, headers=bearer(tokens.write)), 403, "forbidden")


def test_read_and_write_tokens_do_their_jobs_and_admin_does_both(
    anonymous: Client, tokens: Tokens
) -> None:
    body = {"name": "A", "email": new_email(), "kind": "guest"}
    created = anonymous.post("/humans", json=body, headers=bearer(tokens.write))
    path = created.headers["location"]

    assert created.status_code == 201
    assert anonymous.get(path, headers=bearer(tokens.read)).status_code == 200
    assert anonymous.get(path, headers=bearer(tokens.admin)).status_code == 200
    body["email"] = new_email()
    assert anonymous.post("/humans", json=body, headers=bearer(tokens.admin)).status_code == 201


def test_tokens_are_stored_only_as_hashes(api_keys: ApiKeyStore, module_database_url: str) -> None:
    token = api_keys.create(f"hashed-{uuid.uuid4().hex[:6]}", [Scope.READ])

    with psycopg.connect(module_database_url) as conn:
        rows = conn.execute("SELECT name, token_sha256, scopes FROM hot_api_keys").fetchall()

    assert token not in repr(rows)
    assert hashlib.sha256(token.encode()).digest() in [bytes(r[1]) for r in rows]


def test_a_revoked_token_stops_working_within_the_cache_time(
    anonymous: Client, api_keys: ApiKeyStore, module_database_url: str
) -> None:
    name = f"short-lived-{uuid.uuid4().hex[:6]}"
    token = api_keys.create(name, [Scope.READ])
    assert anonymous.get("/events", headers=bearer(token)).status_code == 200

    with ApiKeyStore(module_database_url) as elsewhere:  # as another process would
        elsewhere.revoke(name)
    time.sleep(api_keys.cache_seconds + 0.1)

    problem(anonymous.get("/events", headers=bearer(token)), 401, "unauthorized")


def test_key_names_are_unique_and_revoking_an_unknown_key_fails(api_keys: ApiKeyStore) -> None:
    name = f"unique-{uuid.uuid4().hex[:6]}"
    api_keys.create(name, [Scope.READ])

    with pytest.raises(KeyExistsError):
        api_keys.create(name, [Scope.WRITE])
    with pytest.raises(KeyNotFoundError):
        api_keys.revoke(f"missing-{uuid.uuid4().hex[:6]}")
    assert name in [k.name for k in api_keys.list_keys()]


def test_the_first_admin_key_is_created_only_once(database_url: str) -> None:
    with ApiKeyStore(database_url) as api_keys:
        first = api_keys.create_first_admin()
        second = api_keys.create_first_admin()
        scopes = api_keys.verify(first) if first is not None else None

    assert first is not None
    assert second is None
    assert scopes == frozenset({Scope.ADMIN})


def test_no_cors_headers_unless_configured(anonymous: Client) -> None:
    response = anonymous.get("/catalog", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in response.headers


def test_cors_for_configured_origins_only(humans: HumansApplication, api_keys: ApiKeyStore) -> None:
    api = create_app(humans, api_keys, cors_origins=["https://hr.trantor.example"])
    with TestClient(api) as test_client:
        allowed = test_client.get("/catalog", headers={"Origin": "https://hr.trantor.example"})
        other = test_client.get("/catalog", headers={"Origin": "https://evil.example"})

    assert allowed.headers["access-control-allow-origin"] == "https://hr.trantor.example"
    assert "access-control-allow-origin" not in other.headers
    exposed = {
        h.strip().lower() for h in allowed.headers["access-control-expose-headers"].split(",")
    }
    assert {"etag", "location", "retry-after"} <= exposed  # a browser's script may read them
