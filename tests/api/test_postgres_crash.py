"""PostgreSQL really crashes (SIGKILL of its postmaster) and really comes back: HoT
answers 503 meanwhile, never 500, and goes on by itself with nothing lost or doubled."""

from __future__ import annotations

import time

import pytest
from litestar.testing import TestClient

from hot.api import create_app
from hot.infra.api_keys import ApiKeyStore
from tests.api.conftest import bearer, new_email, problem, retry_until_answered
from tests.blocking import blocking_application
from tests.processes import KillablePostgres

pytestmark = pytest.mark.slow  # a PostgreSQL server of its own, killed and restarted


def test_a_crashed_postgresql_is_503_until_it_is_back_then_hot_goes_on(
    killable_postgres: KillablePostgres,
) -> None:
    humans = blocking_application(killable_postgres.url, deadline=2)
    api_keys = ApiKeyStore(killable_postgres.url, cache_seconds=60)
    token = api_keys.create("ops", ["admin"])
    join = {"on": "2020-01-01", "role": "trader"}
    retry_safely = {"Idempotency-Key": "join-across-a-crash"}
    try:
        with TestClient(create_app(humans, api_keys), raise_server_exceptions=False) as c:
            c.headers.update(bearer(token))
            body = {"name": "Hober Mallow", "email": new_email(), "kind": "employee"}
            human_id = c.post("/humans", json=body).json()["id"]

            killable_postgres.kill()
            write = c.post(f"/humans/{human_id}/join", json=join, headers=retry_safely)
            history = c.get(f"/humans/{human_id}/events")
            health = c.get("/health/ready")

            killable_postgres.start()
            back = time.monotonic()
            healed = retry_until_answered(
                lambda: c.post(f"/humans/{human_id}/join", json=join, headers=retry_safely)
            )
            recovery = time.monotonic() - back
            again = c.post(f"/humans/{human_id}/join", json=join, headers=retry_safely)
            after = c.get(f"/humans/{human_id}/events")
    finally:
        api_keys.close()
        humans.close()

    for response in (write, history):
        problem(response, 503, "database-unavailable")
    assert health.status_code == 503
    assert healed.status_code == 200, healed.text
    assert again.json() == healed.json()  # the same answer, nothing recorded twice
    assert [e["name"] for e in after.json()["events"]] == ["HUMAN_REGISTERED", "HUMAN_JOINED"]
    assert recovery < 30, f"HoT took {recovery:.1f} s to notice PostgreSQL was back"
