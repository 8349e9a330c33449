"""Liveness, readiness, and what clients get while the database is unreachable."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg
import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from hot.infra.relay import RelayStatus
from hot.infra.sql_read.projector import ProjectorStatus
from tests.api.conftest import bearer, new_email, problem, retry_until_answered
from tests.blocking import blocking_application
from tests.serving import free_port

pytestmark = pytest.mark.postgres


def ready(humans: HumansApplication, api_keys: ApiKeyStore, **parts: Any) -> Any:
    with TestClient(create_app(humans, api_keys, **parts)) as test_client:
        return test_client.get("/health/ready")


def test_live_needs_nothing(client: TestClient[Litestar]) -> None:
    response = client.get("/health/live", headers={"Authorization": ""})

    assert (response.status_code, response.json()["status"]) == (200, "live")


def test_ready_checks_postgres(humans: HumansApplication, api_keys: ApiKeyStore) -> None:
    response = ready(humans, api_keys)

    assert response.status_code == 200
    assert response.json()["checks"]["postgres"]["ok"] is True
    assert "redis" not in response.json()["checks"]


@pytest.mark.redis
def test_ready_checks_redis_when_configured(
    humans: HumansApplication, api_keys: ApiKeyStore, redis_server_url: str
) -> None:
    up = ready(humans, api_keys, redis=redis.Redis.from_url(redis_server_url))
    down = ready(humans, api_keys, redis=redis.Redis(port=free_port(), socket_connect_timeout=1))

    assert (up.status_code, up.json()["checks"]["redis"]["ok"]) == (200, True)
    assert (down.status_code, down.json()["checks"]["redis"]["ok"]) == (503, False)
    assert down.json()["status"] == "unavailable"
    assert down.headers["retry-after"]


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (lambda: RelayStatus(state="active", published=10, lag=2), 200),
        (lambda: RelayStatus(state="standby"), 200),
        (lambda: RelayStatus(state="retrying", error="redis down"), 503),
        (lambda: {"ok": False, "lag": 10_000}, 503),
        (lambda: 1 / 0, 503),
    ],
)
def test_ready_reports_the_relay(
    humans: HumansApplication, api_keys: ApiKeyStore, status: Any, code: int
) -> None:
    response = ready(humans, api_keys, relay_status=status)

    assert response.status_code == code
    assert response.json()["checks"]["relay"]["ok"] is (code == 200)


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (lambda: ProjectorStatus(state="active", position=10, lag=0, caught_up=True), 200),
        (lambda: ProjectorStatus(state="standby", position=8, lag=2), 200),
        (lambda: ProjectorStatus(state="retrying", error="connection lost"), 503),
    ],
)
def test_ready_reports_the_sql_read_projector_and_its_lag(
    humans: HumansApplication, api_keys: ApiKeyStore, status: Any, code: int
) -> None:
    response = ready(humans, api_keys, sql_read_status=status)

    check = response.json()["checks"]["sql_read"]
    assert (response.status_code, check["ok"]) == (code, code == 200)
    assert (check["info"]["position"], check["info"]["lag"]) == (status().position, status().lag)


def test_the_relay_s_instants_are_rfc_3339(
    humans: HumansApplication, api_keys: ApiKeyStore
) -> None:
    checked = datetime(2026, 12, 7, 8, 30, 5, 123456, tzinfo=UTC)
    response = ready(
        humans, api_keys, relay_status=lambda: RelayStatus(state="active", checked_at=checked)
    )

    assert (
        response.json()["checks"]["relay"]["info"]["checked_at"]
        == "2026-12-07T08:30:05.123456+00:00"
    )


@dataclass(frozen=True)
class Outage:
    """An app on its own database, which the test can cut off (and is restored after)."""

    humans: HumansApplication
    api_keys: ApiKeyStore
    server_url: str
    database_url: str

    def set_reachable(self, reachable: bool) -> None:
        """Refuse (or allow again) every connection to this test's own database."""
        set_reachable(self.server_url, self.database_url, reachable)


@pytest.fixture
def outage(postgres_server_url: str, database_url: str) -> Iterator[Outage]:
    humans = blocking_application(database_url, deadline=2)
    api_keys = ApiKeyStore(database_url, cache_seconds=60)
    yield Outage(humans, api_keys, postgres_server_url, database_url)
    set_reachable(postgres_server_url, database_url, True)
    api_keys.close()
    humans.close()


def set_reachable(server_url: str, database_url: str, reachable: bool) -> None:
    name = urlsplit(database_url).path.lstrip("/")
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(reachable).lower()}')
        if not reachable:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )


def test_an_unreachable_database_is_503_and_hot_recovers_by_itself(outage: Outage) -> None:
    token = outage.api_keys.create("ops", ["admin"])
    api = create_app(outage.humans, outage.api_keys)
    join = {"on": "2020-01-01", "role": "trader"}
    retry_safely = {"Idempotency-Key": "join-during-outage"}
    with TestClient(api, raise_server_exceptions=False) as client:
        client.headers.update(bearer(token))
        body = {"name": "Hober Mallow", "email": new_email(), "kind": "employee"}
        human_id = client.post("/humans", json=body).json()["id"]

        outage.set_reachable(False)
        read = client.get(f"/humans/{human_id}")
        write = client.post(f"/humans/{human_id}/join", json=join, headers=retry_safely)
        health = client.get("/health/ready")

        outage.set_reachable(True)
        healed = retry_until_answered(
            lambda: client.post(f"/humans/{human_id}/join", json=join, headers=retry_safely)
        )
        after = client.get(f"/humans/{human_id}/events")

    for response in (read, write):
        problem(response, 503, "database-unavailable")
        assert int(response.headers["retry-after"]) > 0
    assert health.status_code == 503
    assert health.json()["checks"]["postgres"]["ok"] is False
    assert healed.status_code == 200, healed.text
    assert healed.json()["version"] == 2
    assert [e["name"] for e in after.json()["events"]] == ["HUMAN_REGISTERED", "HUMAN_JOINED"]
