"""PostgreSQL really crashes (SIGKILL of its postmaster) or is restarted cleanly
(``pg_ctl restart -m fast``) and really comes back: HoT answers 503 meanwhile, quickly
and never 500, and goes on by itself within seconds with nothing lost or doubled, for
one client and for many writing at once over real sockets."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from hot.api import create_app
from hot.infra.api_keys import ApiKeyStore
from tests.api.conftest import bearer, new_email, problem, retry_until_answered
from tests.blocking import blocking_application
from tests.processes import KillablePostgres
from tests.serving import free_port, served

pytestmark = pytest.mark.slow  # a PostgreSQL server of its own, killed and restarted


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_a_crashed_postgresql_is_503_until_it_is_back_then_hot_goes_on(
    killable_postgres: KillablePostgres,
) -> None:
    humans = blocking_application(killable_postgres.url)  # hot serve's deadline
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
            asked = time.monotonic()
            write = c.post(f"/humans/{human_id}/join", json=join, headers=retry_safely)
            refused_in = time.monotonic() - asked
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
        assert response.headers["retry-after"] == "2"
    # Told at once, not at the deadline (15 s): the pool knows the server is gone.
    assert refused_in < 5, f"a command waited {refused_in:.1f} s for its 503"
    assert health.status_code == 503
    assert healed.status_code == 200, healed.text
    assert again.json() == healed.json()  # the same answer, nothing recorded twice
    assert [e["name"] for e in after.json()["events"]] == ["HUMAN_REGISTERED", "HUMAN_JOINED"]
    # Within a retry or two: the pool tries again every half second, not after minutes.
    assert recovery < 3, f"HoT took {recovery:.1f} s to notice PostgreSQL was back"


WRITERS = 40  # clients, each attending day after day for a human of its own; half with keys
JOINED_ON = date(2000, 1, 3)
OUTAGE = 3.0  # seconds: longer than a command's deadline


@dataclass
class Answers:
    """What the clients were told: each 200's body by human and day, the days of requests
    answered 503, and every status."""

    recorded: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    unavailable: set[tuple[str, str]] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)


async def _attend_day_after_day(
    c: httpx.AsyncClient, human_id: str, keyed: bool, stop: asyncio.Event, seen: Answers
) -> None:
    """Attend on one day after the other until ``stop``; a 503 is given up (without a key)
    or retried with the same ``Idempotency-Key`` until answered (with one)."""
    day = JOINED_ON
    while not stop.is_set():
        day += timedelta(days=1)
        headers = {"Idempotency-Key": f"{human_id}/{day}"} if keyed else {}
        give_up = time.monotonic() + 60
        while True:
            response = await c.post(
                f"/humans/{human_id}/attend", json={"on": str(day)}, headers=headers
            )
            seen.statuses[response.status_code] += 1
            if response.status_code != 503:
                assert response.status_code == 200, response.text
                seen.recorded[human_id, str(day)] = response.json()
                break
            problem(response, 503, "database-unavailable")
            seen.unavailable.add((human_id, str(day)))
            if not keyed:
                break
            assert time.monotonic() < give_up, f"day {day} of {human_id} not answered in 60 s"
            await asyncio.sleep(0.1)


async def _until(predicate: Callable[[], bool], seconds: float, what: str) -> None:
    give_up = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < give_up, f"Not within {seconds} s: {what}"
        await asyncio.sleep(0.05)


async def _log(c: httpx.AsyncClient) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = (await c.get("/events", params={"after": after, "limit": 1000})).json()
        events += page["events"]
        after = page["next"]
    return events


async def _register_members(c: httpx.AsyncClient, count: int) -> list[str]:
    """``count`` humans who joined on ``JOINED_ON``; their ids."""
    ids = []
    for n in range(count):
        body = {"name": f"Writer {n}", "email": new_email(), "kind": "employee"}
        human_id = (await c.post("/humans", json=body)).json()["id"]
        join = {"on": str(JOINED_ON), "role": "writer"}
        assert (await c.post(f"/humans/{human_id}/join", json=join)).status_code == 200
        ids.append(human_id)
    return ids


def _crash(server: KillablePostgres) -> None:
    """SIGKILL, and back after ``OUTAGE`` seconds."""
    server.kill()
    time.sleep(OUTAGE)
    server.start()


@pytest.mark.anyio
@pytest.mark.parametrize("outage", [_crash, KillablePostgres.restart], ids=["crash", "restart"])
async def test_concurrent_writes_across_an_outage_are_200_or_503_and_each_200_is_recorded(
    killable_postgres: KillablePostgres, outage: Callable[[KillablePostgres], None]
) -> None:
    humans = blocking_application(killable_postgres.url, deadline=2)
    api_keys = ApiKeyStore(killable_postgres.url, cache_seconds=60)
    token = api_keys.create("ops", ["admin"])
    stop, seen = asyncio.Event(), Answers()
    try:
        with served(create_app(humans, api_keys), free_port()) as url:
            async with httpx.AsyncClient(base_url=url, headers=bearer(token), timeout=60) as c:
                ids = await _register_members(c, WRITERS)
                keyed = set(ids[::2])
                writers = [
                    asyncio.create_task(_attend_day_after_day(c, h, h in keyed, stop, seen))
                    for h in ids
                ]
                await _until(lambda: len(seen.recorded) >= 1000, 30, "the clients are under way")
                await asyncio.to_thread(outage, killable_postgres)
                back, recovered = time.monotonic(), len(seen.recorded)
                # Seconds, not the minutes of psycopg's backoff (bounded loosely: 40 writers
                # share two cores with whatever else runs).
                await _until(lambda: len(seen.recorded) > recovered, 10, "answered again")
                recovery = time.monotonic() - back
                await _until(lambda: len(seen.recorded) >= recovered + 1000, 45, "they go on")
                stop.set()
                await asyncio.wait_for(asyncio.gather(*writers), 70)
                log = await _log(c)
    finally:
        stop.set()
        api_keys.close()
        humans.close()

    assert set(seen.statuses) <= {200, 503}, seen.statuses  # never a 500, nor a conflict
    assert seen.statuses[503] > 0 or outage is KillablePostgres.restart, seen.statuses
    assert recovery < 10, f"writes were answered again {recovery:.1f} s after the server was back"
    at = {e["position"]: e for e in log}
    attended: dict[tuple[str, str], list[int]] = {}
    for event in log:
        if event["name"] == "HUMAN_ATTENDED":
            attended.setdefault((event["subject"], event["payload"]["on"]), []).append(
                event["position"]
            )
    for (human_id, day), answer in seen.recorded.items():  # every 200 is in the log
        event = at[answer["position"]]
        assert (event["subject"], event["sequence"]) == (human_id, answer["version"])
        assert attended[human_id, day] == [answer["position"]]
    assert all(len(positions) == 1 for positions in attended.values()), "a day recorded twice"
    assert attended.keys() <= seen.recorded.keys() | seen.unavailable
    # A request retried with its key until answered is there, once.
    assert {a for a in attended if a[0] in keyed} == {a for a in seen.recorded if a[0] in keyed}
