"""Many concurrent commands over HTTP: each accepted one is recorded exactly once.

The requests all start at once on one event loop; the app runs them in worker
threads, where group commit batches them, so the races are real ones.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import date, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from tests.api.conftest import bearer, new_email
from tests.blocking import opened_application

pytestmark = [pytest.mark.postgres, pytest.mark.anyio]

Client = AsyncTestClient[Litestar]
FIRST_DAY = date(2020, 1, 1)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def fresh(database_url: str) -> Iterator[HumansApplication]:
    with opened_application(database_url) as humans:
        yield humans


@pytest.fixture
async def client(fresh: HumansApplication, database_url: str) -> AsyncIterator[Client]:
    with ApiKeyStore(database_url, cache_seconds=60) as api_keys:
        token = api_keys.create("load", ["admin"])
        async with AsyncTestClient(create_app(fresh, api_keys), timeout=120) as test_client:
            test_client.headers.update(bearer(token))
            yield test_client


async def all_events(client: Client, path: str) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    cursor: int | None = 0
    while cursor is not None:
        page = (await client.get(path, params={"after": cursor, "limit": 500})).json()
        events += page["events"]
        cursor = page["next"]
    return events


async def test_200_concurrent_commands_on_one_human(client: Client) -> None:
    registered = await client.post(
        "/humans", json={"name": "Bayta Darell", "email": new_email(), "kind": "employee"}
    )
    human_id = registered.json()["id"]
    await client.post(f"/humans/{human_id}/join", json={"on": str(FIRST_DAY), "role": "scout"})
    days = [str(FIRST_DAY + timedelta(days=n % 150)) for n in range(200)]  # 50 repeated days

    responses = await asyncio.gather(
        *(client.post(f"/humans/{human_id}/attend", json={"on": day}) for day in days)
    )

    accepted = [day for day, r in zip(days, responses, strict=True) if r.status_code == 200]
    refused = [r.json()["rule"] for r in responses if r.status_code != 200]
    assert Counter(accepted) == Counter(set(days))  # every day once
    assert refused == ["already-attended"] * 50
    versions = sorted(r.json()["version"] for r in responses if r.status_code == 200)
    assert versions == list(range(3, 153))
    history = await all_events(client, f"/humans/{human_id}/events")
    attended = [e["payload"]["on"] for e in history if e["name"] == "HUMAN_ATTENDED"]
    assert Counter(attended) == Counter(accepted)
    assert [e["sequence"] for e in history] == list(range(1, 153))


@pytest.mark.slow
async def test_2000_concurrent_commands_on_different_humans(client: Client) -> None:
    envelopes = [
        {
            "id": str(uuid.uuid4()),
            "name": "HUMAN_REGISTERED",
            "version": 1,
            "payload": {"name": f"Human {n}", "email": new_email(), "kind": "guest"},
        }
        for n in range(2000)
    ]

    responses = await asyncio.gather(*(client.post("/events", json=e) for e in envelopes))

    assert Counter(r.status_code for r in responses) == {201: 2000}
    subjects = {r.json()["id"] for r in responses}
    log = await all_events(client, "/events")
    assert len(subjects) == len(log) == 2000
    assert {e["subject"] for e in log} == subjects
    assert {e["id"] for e in log} == {e["id"] for e in envelopes}
    positions = [e["position"] for e in log]
    assert positions == sorted(set(positions))
