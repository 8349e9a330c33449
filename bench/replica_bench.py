"""Benchmark of ``GET /events`` read from a replica, against the same reads from the primary.

A PostgreSQL of the benchmark's own and its streaming replica (``pg_basebackup -R``,
``tests.processes.KillablePostgres``) on this one machine; ``EVENTS`` events written.
Then ``GET /events`` over HTTP (the API served by uvicorn in this process, 16 client
threads, pages of 100 at random positions, personal fields shown) for ``SECONDS`` with
the queries read from the replica (``HOT_DATABASE_READ_URL``), and the same with none
(the primary), rounds alternating; the median ratio of the rounds is printed.

Both servers share this machine's cores with the API and its clients: the figure says
what reading from a replica costs or gains here, not what a replica on its own machine
would take off a busy primary.

    uv run python bench/replica_bench.py [--seconds S] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project: ``tests``

from tests.processes import KillablePostgres
from tests.serving import free_port, served

from hot.api import create_app
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import build_application, read_from_replicas
from hot.infra.log_pages import LogPages

EVENTS = 20_000
CLIENTS = 16
PAGE = 100


async def write(app: object, events: int) -> None:
    """``events`` attendances (and their humans), 50 humans at a time."""
    written = 0
    while written < events:
        humans = await asyncio.gather(
            *(
                app.register(f"H{written + n}", f"h{written + n}@b.example", HumanKind.EMPLOYEE)  # type: ignore[attr-defined]
                for n in range(50)
            )
        )
        first = date(2000, 1, 1)
        await asyncio.gather(*(app.join(h.id, first, "r") for h in humans))  # type: ignore[attr-defined]
        for day in range(1, 20):
            on = first + timedelta(days=day)
            await asyncio.gather(*(app.attend(h.id, on) for h in humans))  # type: ignore[attr-defined]
        written += 50 * 21


def reads_per_second(url: str, token: str, head: int, seconds: float) -> float:
    """``GET /events`` answered a second, from ``CLIENTS`` threads at once."""
    counts = [0] * CLIENTS
    stop = time.perf_counter() + seconds

    def client(n: int) -> None:
        rng = random.Random(n)
        headers = {"Authorization": f"Bearer {token}"}
        with httpx.Client(base_url=url, headers=headers) as c:
            while time.perf_counter() < stop:
                after = rng.randrange(0, max(1, head - PAGE))
                answer = c.get("/events", params={"after": after, "limit": PAGE})
                assert answer.status_code == 200, answer.text
                counts[n] += 1

    threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hot-replica-bench-") as folder:
        primary = KillablePostgres(Path(folder) / "primary")
        primary.start()
        replica = KillablePostgres.replica_of(primary, Path(folder) / "replica")
        replica.start()
        app = build_application(primary.url)
        api_keys = ApiKeyStore(primary.url, cache_seconds=600)
        loop = asyncio.new_event_loop()
        try:
            started = time.perf_counter()
            loop.run_until_complete(write(app, EVENTS))
            head = app.head_now()
            print(f"wrote {head:,} events in {time.perf_counter() - started:.1f}s", flush=True)
            token = api_keys.create("bench", ["admin"])
            on_primary = LogPages.on(app)
            replicas = read_from_replicas(app, [replica.url], max_lag=1000)
            on_replica = app.pages
            while replicas.replicas[0].state != "up" or replicas.replicas[0].head < head:
                time.sleep(0.1)
            rates: dict[str, list[float]] = {"primary": [], "replica": []}
            with served(create_app(app, api_keys), free_port()) as url:
                for n in range(args.rounds):
                    for where, pages in (("primary", on_primary), ("replica", on_replica)):
                        app.pages = pages
                        rates[where].append(reads_per_second(url, token, head, args.seconds))
                    ratio = rates["replica"][-1] / rates["primary"][-1]
                    print(
                        f"round {n + 1}: primary {rates['primary'][-1]:7.0f}/s   "
                        f"replica {rates['replica'][-1]:7.0f}/s   ({ratio:.2f}x)",
                        flush=True,
                    )
            replicas.close()
        finally:
            loop.close()
            api_keys.close()
            app.close()
            replica.stop()
            primary.stop()
    ratios = [r / p for r, p in zip(rates["replica"], rates["primary"], strict=True)]
    print(f"\nGET /events (pages of {PAGE}, {CLIENTS} clients), medians of {args.rounds} rounds:")
    print(f"  from the primary  {statistics.median(rates['primary']):8.0f} answers/s")
    print(f"  from the replica  {statistics.median(rates['replica']):8.0f} answers/s", end="")
    print(f"   {statistics.median(ratios):.2f}x (median ratio)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
