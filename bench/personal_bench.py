"""What sealing personal data costs: writes and catch-up, sealed against clear, in one run.

(a) Writes: 64 client threads through the application (group commit), each
    registering humans (a registration is all personal data, and makes a key)
    and recording a join and attendance for each: sealed vs ``seal_personal_data=False``.
(b) Catch-up: a new ``Follower`` reading a whole log from PostgreSQL into decoded
    events, for the same log written sealed and written in clear; once decrypting
    (a follower with the ``personal`` scope) and once masked (without it: a masked
    follower decrypts nothing). On two logs, because the share of sealed events is
    what sealing costs a reader: the writes' short lives (registered, joined, 3 days
    attended: 1 event in 5 sealed, a pessimistic mix), and long lives (registered,
    joined, 60 days attended, renamed, left with a reason: 3 in 64 sealed). The long
    lives are the realistic mix: a member's log is mostly days attended, which carry
    no personal field; registrations, renames and reasons for leaving are rare.

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

import psycopg

from hot.application import HumansApplication
from hot.domain import Human, HumanKind
from hot.follow import Follower, PostgresLog
from hot.infra.bootstrap import build_application
from hot.infra.database import create_database, drop_database

SERVER_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
CLIENTS = 64
ATTENDS = 3  # per human: registered, joined, 3 days attended = 5 events, 1 of them personal
LONG_ATTENDS = 60  # per human: 64 events, 3 of them personal (registered, renamed, left)
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


def catch_up(app: HumansApplication, *, personal: bool) -> float:
    """Events/s of a follower reading the whole log (a new one: nothing cached but keys)."""
    source = PostgresLog(app)
    head = source.head()
    count = 0
    started = time.perf_counter()
    with Follower(source, page_size=1000, personal=personal) as follower:
        for batch in follower.batches():
            count += len(batch)
            if follower.position >= head:
                break
    seconds = time.perf_counter() - started
    source.close()
    return count / seconds


def analyze(url: str) -> None:
    """Table statistics, as autovacuum makes them in production (it may be off here):
    without them PostgreSQL sorts every remaining row for each page."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("ANALYZE hot_events")


SEALED_SHARE = (
    "SELECT count(*) FILTER (WHERE position(%s in state) > 0)::float / count(*) "
    "FROM hot_events WHERE topic NOT LIKE 'hot:%%'"
)


def sealed_share(url: str) -> float:
    """The share of public events in the log that carry a sealed blob."""
    with psycopg.connect(url) as conn:
        row = conn.execute(SEALED_SHARE, (b'"_personal"',)).fetchone()
    return float(row[0]) if row else 0.0


def fill(app: HumansApplication, events: int, attends: int) -> None:
    """About ``events`` events of whole lives, written fast (50 humans a save): registered,
    joined, ``attends`` days attended, and, for long lives, renamed and left with a reason."""
    today = date.today()
    start = today - timedelta(days=attends + 10)
    long = attends > ATTENDS
    per_human = 2 + attends + (2 if long else 0)
    humans = max(1, events // per_human)
    for first in range(0, humans, 50):
        batch: list[Human] = []
        for n in range(first, min(first + 50, humans)):
            human = Human.register(f"Human {n}", f"human{n}@example.org", HumanKind.EMPLOYEE)
            human.join(start, "engineer")
            for day in range(attends):
                human.attend(start + timedelta(days=day + 1), today=today)
            if long:
                human.change_details(name=f"Human {n} (renamed)")
                human.leave(start + timedelta(days=attends + 1), "moved to another city")
            batch.append(human)
        app.save(*batch)


MIXES = {  # name: days attended per life
    "short lives (as the writes): registered, joined, 3 days attended": ATTENDS,
    f"long lives: registered, joined, {LONG_ATTENDS} days attended, renamed, left": LONG_ATTENDS,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    args = parser.parse_args()
    per_client = 5 if args.quick else 25
    log_events = 10_000 if args.quick else 50_000

    writes: dict[bool, float] = {}
    reads: dict[tuple[bool, str, bool], float] = {}  # (sealed, mix, personal): events/s
    shares: dict[str, float] = {}
    for sealed in (False, True, False, True):  # interleaved: the best of 2 writes, 4 reads
        with application(sealed) as (app, _url):
            write_s, commands = write(app, per_client)
        writes[sealed] = max(writes.get(sealed, 0.0), commands / write_s)
        for mix, attends in MIXES.items():
            with application(sealed) as (app, url):
                fill(app, log_events, attends)
                analyze(url)
                if sealed:
                    shares[mix] = sealed_share(url)
                for personal in (True, False, True, False):
                    key = (sealed, mix, personal)
                    reads[key] = max(reads.get(key, 0.0), catch_up(app, personal=personal))

    ratios = [writes[True] / writes[False]]
    print(f"(a) writes, {CLIENTS} clients, 1 event in {2 + ATTENDS} personal")
    print(f"    clear   {writes[False]:>9,.0f} commands/s")
    print(f"    sealed  {writes[True]:>9,.0f} commands/s   {ratios[0]:.2f}x clear")
    print(f"(b) follower catch-up from PostgreSQL, {log_events:,} events")
    for mix in MIXES:
        print(f"  {mix} ({shares[mix]:.1%} of the events sealed)")
        for personal, who in ((True, "decrypting (scope personal)"), (False, "masked (no scope)")):
            clear, sealed_ = reads[False, mix, personal], reads[True, mix, personal]
            ratios.append(sealed_ / clear)
            print(
                f"    {who:<28} clear {clear:>9,.0f} events/s, "
                f"sealed {sealed_:>9,.0f} events/s   {sealed_ / clear:.2f}x clear"
            )
    ok = min(ratios) >= TARGET
    print(f"\ntarget: sealed >= {TARGET}x clear (<= 15% slower): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
