"""Benchmark of keeping ``hot_read`` in step with the log, in one run.

(a) The write path: 64 concurrent clients of single-event commands (``attend`` on many
    humans) through the application layer with group commit, as the API runs them,
    with the SQL read projector running as ``hot serve`` runs it (in its background
    process, ``hot.cli.background``) against without it: commands/s, rounds
    interleaved (off then on, on then off, ...), the median ratio (target >= 0.9x) and
    each round's.
    Each "on" round starts caught up. While it runs, the projector's lag (log positions
    behind the head, read from ``hot_read.contract`` every 50 ms), and how long after
    the last command it has caught up.
(b) Catch-up: the projector copying a log of about 50,000 events into an empty
    ``hot_read`` (events/s), beside reading and decoding the same pages alone (what
    the projector does before it writes), median of rounds.

    uv run python bench/sql_read_bench.py [--quick] [--only a|b]

Uses HOT_BENCH_DATABASE_URL (default: the local server); creates and drops databases
of its own.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
from api_bench import fresh_database, register_members  # bench/, beside this script

from hot.application import HumansApplication
from hot.cli.background import Background
from hot.cli.runtime import tuned_runtime
from hot.infra.bootstrap import build_application
from hot.infra.relay.source import EventLog
from hot.infra.settings import Settings
from hot.infra.sql_read.projector import SqlReadProjector
from hot.infra.sql_read.schema import read_position
from hot.tuning import SQL_READ_BATCH

CLIENTS = 64
JOINED_ON = date(2000, 1, 1)
TARGET = 0.9


@dataclass(frozen=True)
class Plan:
    humans: int
    seconds: float
    warmup: float
    rounds: int
    catch_up_events: int


FULL = Plan(humans=2000, seconds=6.0, warmup=1.5, rounds=9, catch_up_events=50_000)
QUICK = Plan(humans=500, seconds=3.0, warmup=1.0, rounds=3, catch_up_events=10_000)


class Days:
    """Hands out (human, day) pairs never used before, so every attend is accepted."""

    def __init__(self, humans: list[uuid.UUID]) -> None:
        self.humans = humans
        self.next_day = 1

    def take(self) -> Iterator[tuple[uuid.UUID, date]]:
        while True:
            day = JOINED_ON + timedelta(days=self.next_day)
            self.next_day += 1
            for human in self.humans:
                yield human, day


async def attend_rate(app: HumansApplication, days: Days, seconds: float, warmup: float) -> float:
    """Attends a second of ``CLIENTS`` concurrent clients on one event loop, after a warm-up."""
    stop = asyncio.Event()
    count = 0
    pairs = days.take()

    async def client() -> None:
        nonlocal count
        for human, day in pairs:
            if stop.is_set():
                return
            await app.attend(human, day)
            count += 1

    clients = [asyncio.create_task(client()) for _ in range(CLIENTS)]
    await asyncio.sleep(warmup)
    before, started = count, time.perf_counter()
    await asyncio.sleep(seconds)
    after, elapsed = count, time.perf_counter() - started
    stop.set()
    await asyncio.gather(*clients)
    return (after - before) / elapsed


class LagSampler:
    """Samples how many log positions ``hot_read`` is behind the head, every 50 ms."""

    def __init__(self, app: HumansApplication, database_url: str) -> None:
        self.app, self.database_url = app, database_url
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        with psycopg.connect(self.database_url, autocommit=True) as conn:
            while not self._stop.wait(0.05):
                head = self.app.head_now()
                self.samples.append(max(0, head - read_position(conn)))


def checkpoint(database_url: str) -> None:
    """A checkpoint now, so that each side's measure starts right after one: a checkpoint
    that the WAL's volume calls for would otherwise fall in whichever side runs then, and
    slow it with the full page images written after it."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CHECKPOINT")


def caught_up_after(app: HumansApplication, database_url: str) -> float:
    """Seconds until ``hot_read`` stands at the log's head (read now)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        started, head = time.perf_counter(), app.head_now()
        while read_position(conn) < head:
            time.sleep(0.001)
        return time.perf_counter() - started


def projecting(database_url: str) -> Background:
    """The projector as ``hot serve`` runs it, in its background process (no relay: no
    Redis here), once it is active and caught up."""
    settings = Settings.from_env({"HOT_DATABASE_URL": database_url, "HOT_RELAY": "off"})
    background = Background(settings).start(database_url, None)
    while not background.sql_read_status().caught_up:
        if background.sql_read_status().state == "stopped":
            raise RuntimeError(f"The projector stopped: {background.sql_read_status()}")
        time.sleep(0.05)
    return background


async def write_path(database_url: str, plan: Plan) -> None:
    app = build_application(database_url)
    days = Days(await register_members(app, plan.humans))
    ratios, offs, ons, lags, tails = [], [], [], [], []

    async def without() -> float:
        checkpoint(database_url)
        return await attend_rate(app, days, plan.seconds, plan.warmup)

    async def with_projector() -> float:
        background = projecting(database_url)  # each "on" side starts caught up
        checkpoint(database_url)
        with LagSampler(app, database_url) as lag:
            on = await attend_rate(app, days, plan.seconds, plan.warmup)
        tails.append(await asyncio.to_thread(caught_up_after, app, database_url))
        background.stop()
        lags.extend(lag.samples)
        return on

    for n in range(plan.rounds):  # off first, then on first, and so on: no side always later
        if n % 2 == 0:
            off = await without()
            on = await with_projector()
        else:
            on = await with_projector()
            off = await without()
        offs.append(off)
        ons.append(on)
        ratios.append(on / off)
        print(f"  round: off {off:7.0f}/s  on {on:7.0f}/s  ratio {on / off:5.2f}x", flush=True)
    app.close()
    print("\n(a) attends through the application layer, 64 clients, projector as hot serve runs it")
    print(f"  without hot_read kept in step  {statistics.median(offs):9.0f} commands/s")
    print(f"  with hot_read kept in step     {statistics.median(ons):9.0f} commands/s")
    print(
        f"  with / without                 {statistics.median(ratios):9.2f}x  (target >= {TARGET}x)"
    )
    lags.sort()
    print(
        f"  lag under load (positions)     p50 {lags[len(lags) // 2]}, "
        f"p99 {lags[int(len(lags) * 0.99)]}, max {lags[-1]}"
    )
    print(f"  caught up after the writes     {statistics.median(tails) * 1000:9.1f} ms (median)")


async def catch_up(database_url: str, plan: Plan) -> None:
    app = build_application(database_url)
    humans = await register_members(app, 500)
    days = Days(humans)
    pairs = days.take()
    remaining = plan.catch_up_events - 2 * len(humans)

    async def client(share: int) -> None:
        for _ in range(share):
            human, day = next(pairs)
            await app.attend(human, day)

    await asyncio.gather(*(client(remaining // CLIENTS) for _ in range(CLIENTS)))
    log = EventLog(app, personal=False)
    total = len(log.read(0, 10**7))
    projector = SqlReadProjector(app, database_url)
    projected, read_only = [], []
    for _ in range(3):
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("TRUNCATE hot_read.events, hot_read.humans")
            conn.execute("UPDATE hot_read.contract SET position = 0")
            conn.execute("VACUUM ANALYZE hot_read.events")
        started = time.perf_counter()
        projector.catch_up()
        projected.append(total / (time.perf_counter() - started))
        started, after = time.perf_counter(), 0
        while events := log.read(after, SQL_READ_BATCH):
            after = events[-1].position
        read_only.append(total / (time.perf_counter() - started))
    app.close()
    print(f"\n(b) catch-up of {total} events into an empty hot_read, pages of {SQL_READ_BATCH}")
    print(f"  projected (read, decode, write)  {statistics.median(projected):9.0f} events/s")
    print(f"  read and decoded only            {statistics.median(read_only):9.0f} events/s")
    print(f"  rounds: {', '.join(f'{r:.0f}' for r in projected)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument("--only", choices=["a", "b"], help="one part only")
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs, load average {load}; {plan.rounds} rounds")
    if args.only in (None, "a"):
        with fresh_database() as database_url, tuned_runtime():  # as ``hot serve`` runs
            asyncio.run(write_path(database_url, plan))
    if args.only in (None, "b"):
        with fresh_database() as database_url:
            asyncio.run(catch_up(database_url, plan))


if __name__ == "__main__":
    main()
