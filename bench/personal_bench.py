"""What sealing personal data costs: writes and catch-up, sealed against clear, in one run.

(a) Writes: 64 client threads through the application (group commit), each
    registering humans (a registration is all personal data, and makes a key)
    and recording a join and attendance for each: sealed vs ``seal_personal_data=False``.
(b) Catch-up: a ``Follower`` reading the whole log from PostgreSQL into decoded
    events, for the same log written sealed and written in clear.

    uv run python bench/personal_bench.py [--quick]

Target (issue 6): sealed is at most 15% slower than clear, i.e. a ratio >= 0.85.
Uses HOT_BENCH_DATABASE_URL (default: the local server); creates and drops its own
databases.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, timedelta

from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.follow import Follower, PostgresLog
from hot.infra.bootstrap import build_application
from hot.infra.database import create_database, drop_database

SERVER_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CLIENTS = 64
ATTENDS = 3  # per human: registered, joined, 3 days attended = 5 events, 1 of them personal
TARGET = 0.85


@contextmanager
def application(sealed: bool) -> Iterator[tuple[HumansApplication, str]]:
    name = f"hot_bench_personal_{uuid.uuid4().hex[:8]}"
    url = create_database(SERVER_URL, name)
    app = build_application(url, seal_personal_data=sealed)
    try:
        yield app, url
    finally:
        app.close()
        drop_database(SERVER_URL, name)


def write(app: HumansApplication, humans_per_client: int) -> tuple[float, int]:
    """Seconds to write every client's humans, and how many commands that was."""
    start = date.today() - timedelta(days=30)

    def client(n: int) -> None:
        for i in range(humans_per_client):
            human = app.register(
                f"Client {n} human {i}", f"c{n}-h{i}@bench.test", HumanKind.EMPLOYEE
            ).id
            app.join(human, start, "engineer")
            for day in range(ATTENDS):
                app.attend(human, start + timedelta(days=day + 1))

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    return time.perf_counter() - started, CLIENTS * humans_per_client * (2 + ATTENDS)


def catch_up(app: HumansApplication) -> tuple[float, int]:
    head = PostgresLog(app).head()
    count = 0
    started = time.perf_counter()
    with Follower(PostgresLog(app), page_size=1000) as follower:
        for batch in follower.batches():
            count += len(batch)
            if follower.position >= head:
                break
    return time.perf_counter() - started, count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args()
    per_client = 5 if args.quick else 25

    results: dict[bool, tuple[float, float]] = {}
    for sealed in (False, True, False, True):  # interleaved, the best of two each
        with application(sealed) as (app, _url):
            write_s, commands = write(app, per_client)
            read_s, events = catch_up(app)
        best = results.get(sealed, (0.0, 0.0))
        results[sealed] = (max(best[0], commands / write_s), max(best[1], events / read_s))

    clear, sealed_ = results[False], results[True]
    write_ratio, read_ratio = sealed_[0] / clear[0], sealed_[1] / clear[1]
    print(f"(a) writes, {CLIENTS} clients, 1 event in {2 + ATTENDS} personal")
    print(f"    clear   {clear[0]:>9,.0f} commands/s")
    print(f"    sealed  {sealed_[0]:>9,.0f} commands/s   {write_ratio:.2f}x clear")
    print("(b) follower catch-up from PostgreSQL")
    print(f"    clear   {clear[1]:>9,.0f} events/s")
    print(f"    sealed  {sealed_[1]:>9,.0f} events/s   {read_ratio:.2f}x clear")
    ok = write_ratio >= TARGET and read_ratio >= TARGET
    print(f"\ntarget: sealed >= {TARGET}x clear (<= 15% slower): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
