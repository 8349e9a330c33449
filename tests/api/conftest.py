"""Fixtures of the API tests: the Litestar app over a real PostgreSQL, tokens, a client.

Most modules share one database (``module_database_url``): each test registers its
own humans with its own emails, so tests do not see each other's state.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from tests.blocking import opened_application

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Tokens:
    admin: str
    read: str
    write: str


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def new_email() -> str:
    return f"h{uuid.uuid4().hex[:12]}@trantor.example"


def problem(response: Any, status: int, rule: str, field: str | None = None) -> dict[str, Any]:
    """Assert ``response`` is the RFC 9457 problem of ``rule`` (and ``field``); its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"] == f"urn:hot:problem:{rule}"
    assert body["status"] == status
    if field is not None:
        assert body["field"] == field
    return body


def retry_until_answered(call: Callable[[], Any], seconds: float = 90) -> Any:
    """What a patient client does: retry on 503 (after Retry-After) until an answer."""
    give_up = time.monotonic() + seconds
    response = call()
    while response.status_code == 503 and time.monotonic() < give_up:
        time.sleep(min(1.0, float(response.headers.get("retry-after", 1))))
        response = call()
    return response


@pytest.fixture(scope="module")
def humans(module_database_url: str) -> Iterator[HumansApplication]:
    with opened_application(module_database_url) as application:
        yield application


@pytest.fixture(scope="module")
def api_keys(module_database_url: str) -> Iterator[ApiKeyStore]:
    with ApiKeyStore(module_database_url, cache_seconds=1) as store:
        yield store


@pytest.fixture(scope="module")
def tokens(api_keys: ApiKeyStore) -> Tokens:
    suffix = uuid.uuid4().hex[:6]
    return Tokens(
        admin=api_keys.create(f"admin-{suffix}", ["admin"]),
        read=api_keys.create(f"read-{suffix}", ["read"]),
        write=api_keys.create(f"write-{suffix}", ["write"]),
    )


@pytest.fixture(scope="module")
def api(humans: HumansApplication, api_keys: ApiKeyStore) -> Litestar:
    return create_app(humans, api_keys)


@pytest.fixture(scope="module")
def client(api: Litestar, tokens: Tokens) -> Iterator[TestClient[Litestar]]:
    """A client that sends the admin token unless a test passes other headers."""
    with TestClient(api, raise_server_exceptions=False) as test_client:
        test_client.headers.update(bearer(tokens.admin))
        yield test_client


class Humans:
    """Shortcuts to set up humans through the API."""

    def __init__(self, client: TestClient[Litestar]) -> None:
        self.client = client

    def register(self, name: str = "Hari Seldon", kind: str = "employee") -> str:
        body = {"name": name, "email": new_email(), "kind": kind}
        response = self.client.post("/humans", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    def member(self, joined_on: str = "2020-01-01", role: str = "psychohistorian") -> str:
        human_id = self.register()
        response = self.client.post(
            f"/humans/{human_id}/join", json={"on": joined_on, "role": role}
        )
        assert response.status_code == 200, response.text
        return human_id

    def events(self, human_id: str) -> list[dict[str, Any]]:
        response = self.client.get(f"/humans/{human_id}/events", params={"limit": 10_000})
        assert response.status_code == 200, response.text
        return list(response.json()["events"])


@pytest.fixture
def given(client: TestClient[Litestar]) -> Humans:
    return Humans(client)
