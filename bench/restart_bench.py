"""Benchmark of HoT's recovery from a PostgreSQL restart, against a fresh connection, in one run.

A PostgreSQL of the benchmark's own (``tests.processes.KillablePostgres``) is restarted
cleanly (``pg_ctl restart -m fast``: every session ended) again and again. The clock
starts when the server accepts connections again (``pg_ctl -w`` has returned) and stops
at the first command that succeeds:

- HoT: the application as ``hot serve`` builds it (``build_application``), whose pool
  held idle connections the restart broke, asked to record an attendance again and
  again (each failure is what the API answers 503 to) until one is recorded;
- the baseline: a fresh ``psycopg.connect`` and one ``INSERT``, retried the same way.

Rounds alternate (baseline, HoT, baseline, ...). Then, with the server stopped, how long
a command takes to fail (the API's 503): the server is down, the client is told at once.

    uv run python bench/restart_bench.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project: ``tests``

from tests.processes import KillablePostgres

from hot.api.problems import DATABASE_UNAVAILABLE
from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.bootstrap import build_application

RETRY_PAUSE = 0.02  # seconds between a client's attempts
GIVE_UP = 120.0
TARGET_SECONDS = 3.0  # HoT is back within this of the server


def until_success(attempt: Callable[[], Any]) -> tuple[float, int]:
    """Seconds until ``attempt`` first succeeds (failing as the API's 503 would), and
    how many attempts failed."""
    started, failures = time.perf_counter(), 0
    while True:
        try:
            attempt()
            return time.perf_counter() - started, failures
        except DATABASE_UNAVAILABLE:
            failures += 1
            if time.perf_counter() - started > GIVE_UP:
                raise
            time.sleep(RETRY_PAUSE)


class Client:
    """One human of the application, attending day after day."""

    def __init__(self, app: HumansApplication, loop: asyncio.AbstractEventLoop) -> None:
        self.app, self.loop = app, loop
        registered = self.run(app.register("Bench", "restart@example.org", HumanKind.EMPLOYEE))
        self.human_id = registered.id
        self.day = date(2000, 1, 1)
        self.run(app.join(self.human_id, self.day, "bench"))

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def attend(self) -> None:
        self.day += timedelta(days=1)
        self.run(self.app.attend(self.human_id, self.day))

    def warm(self, count: int = 200) -> None:
        """Commands and reads at once, so that the pool holds several connections."""

        async def busy() -> None:
            await asyncio.gather(*(self.app.history(self.human_id) for _ in range(count)))

        self.run(busy())


def fresh_insert(url: str) -> None:
    with psycopg.connect(url, autocommit=True, connect_timeout=5) as conn:
        conn.execute("INSERT INTO bench_restart DEFAULT VALUES")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    rounds = parser.parse_args().rounds
    with tempfile.TemporaryDirectory(prefix="hot-restart-bench-") as folder:
        server = KillablePostgres(Path(folder) / "pg")
        server.start()
        loop = asyncio.new_event_loop()
        app = build_application(server.url)
        try:
            with psycopg.connect(server.url, autocommit=True) as conn:
                conn.execute("CREATE TABLE bench_restart (id bigserial PRIMARY KEY)")
            client = Client(app, loop)
            hot: list[float] = []
            baseline: list[float] = []
            for n in range(rounds):
                server.restart()
                baseline.append(until_success(lambda: fresh_insert(server.url))[0])
                client.warm()
                server.restart()
                seconds, failures = until_success(client.attend)
                hot.append(seconds)
                print(
                    f"round {n + 1}: fresh connection {baseline[-1] * 1000:7.1f} ms   "
                    f"HoT {seconds * 1000:7.1f} ms ({failures} failed attempts)",
                    flush=True,
                )
            client.warm()
            server.stop_cleanly()
            failed_in = []
            for _ in range(3):
                started = time.perf_counter()
                try:
                    client.attend()
                except DATABASE_UNAVAILABLE:
                    failed_in.append(time.perf_counter() - started)
            server.start()
        finally:
            app.close()
            loop.close()
            server.stop()
    hot_s, base_s = statistics.median(hot), statistics.median(baseline)
    print(f"\nrecovery after a restart, median of {rounds} rounds (from accepting connections):")
    print(f"  fresh psycopg.connect + INSERT  {base_s * 1000:8.1f} ms")
    print(f"  HoT's first recorded command    {hot_s * 1000:8.1f} ms   ({hot_s / base_s:.1f}x)")
    shown = ", ".join(f"{s:.2f}" for s in failed_in)
    print(f"while the server is down, a command fails (the API's 503) after: {shown} s")
    verdict = "met" if hot_s <= TARGET_SECONDS and len(failed_in) == 3 else "NOT met"
    print(
        f"target: HoT back within {TARGET_SECONDS:.0f} s, every command refused while down: "
        f"{verdict}"
    )
    return 0 if verdict == "met" else 1


if __name__ == "__main__":
    raise SystemExit(main())
