"""Benchmark of following HoT, against the bare minimum, in one run.

(a) Catch-up: a ``Follower`` reading every event of a 200,000-event log into
    ``RecordedEvent``s, against a raw psycopg ``SELECT`` of the same rows (all columns,
    fetched), both in pages of the same size. ``--source`` says which follower:

    - ``log`` (default): HoT's own follower, ``PostgresLog`` over the log's table
      (decoded, personal fields shown), against a raw paged ``SELECT`` of that table. A
      single ``SELECT`` of everything and the application's ``app.read_log`` (the same
      reader, on the application's pool, without reading ahead) are shown too.
    - ``hot_read``: another team's follower, ``SqlReadLog`` over ``hot_read.events`` (as
      ``Feed.connect(database_url)`` makes it), under a role made as ``hot sql-access
      create`` makes one, against a raw paged ``SELECT`` of the same table by the same
      role, with psycopg's text cursor (its default), its binary one, and its binary one
      decoding jsonb with msgspec as the follower does: the follower is judged against
      the fastest of the three, round by round.

    The follower runs twice a round: in an interpreter tuned as HoT's long-running
    commands tune theirs (``tune_runtime``), which is judged, and in an untouched one (the
    collector as Python sets it), shown beside: what a team's own process gets.
    The machine is shared and noisy, so after a warm-up round the raw pages and the
    follower are timed in alternation, round after round; each round gives a ratio,
    and the figure is the median ratio (every round's ratio is shown).
(b) With ``--source log``: the attendance projection's rebuild
    (``ProjectionRunner.rebuild``), in events/s, tuned as HoT's commands run.

    uv run python bench/follow_bench.py [--quick] [--source log|hot_read]

Uses HOT_BENCH_DATABASE_URL (default: the local server); creates and drops a
database of its own (and, for ``hot_read``, a reader role). Target: catch-up >= 0.5x
the raw SELECT.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import os
import statistics
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
import psycopg
from psycopg.types.json import set_json_loads

from hot.application import CATALOG, HumansApplication
from hot.cli.runtime import tuned_runtime
from hot.domain import Human, HumanKind
from hot.infra.bootstrap import build_application
from hot.infra.database import create_database, drop_database
from hot.infra.postgres_log import PostgresLog
from hot.infra.sql_read.access import create_reader, revoke_reader
from hot.infra.sql_read.projector import SqlReadProjector
from hot_attendance import Attendance
from hot_follow import (
    EventSource,
    Feed,
    Follower,
    PostgresProjectionStore,
    ProjectionRunner,
    SqlReadLog,
)

SERVER_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
EVENTS_PER_HUMAN = 100  # registered, joined, 98 days attended
PAGE = 1000  # the follower's default page size
TARGET_CATCH_UP = 0.5

READ_PAGE = (
    "SELECT notification_id, originator_id, originator_version, topic, state FROM hot_events "
    "WHERE notification_id > %s AND topic = ANY(%s) ORDER BY notification_id LIMIT %s"
)
READ_HOT_READ_PAGE = (
    "SELECT position, id, name, version, subject, sequence, time, payload FROM hot_read.events "
    "WHERE position > %s ORDER BY position LIMIT %s"
)
READ_ALL = (
    "SELECT notification_id, originator_id, originator_version, topic, state FROM hot_events "
    "WHERE topic = ANY(%s) ORDER BY notification_id"
)


@contextmanager
def scratch_database() -> Iterator[str]:
    name = f"hot_bench_follow_{uuid.uuid4().hex[:8]}"
    url = create_database(SERVER_URL, name)
    try:
        yield url
    finally:
        drop_database(SERVER_URL, name)


def fill(app: HumansApplication, events: int) -> None:
    """Write ``events`` public events fast: whole lives, 50 humans (5,000 events) a save."""
    today = date.today()
    start = today - timedelta(days=EVENTS_PER_HUMAN + 10)
    humans = events // EVENTS_PER_HUMAN
    for first in range(0, humans, 50):
        batch: list[Human] = []
        for n in range(first, min(first + 50, humans)):
            human = Human.register(f"Human {n}", f"human{n}@example.org", HumanKind.EMPLOYEE)
            human.join(start, "engineer")
            for day in range(EVENTS_PER_HUMAN - 2):
                human.attend(start + timedelta(days=day + 1), today=today)
            batch.append(human)
        app.save(*batch)


def analyze(url: str) -> None:
    """Table statistics and hint bits, as autovacuum makes them in production (it may be
    off here): without statistics PostgreSQL sorts every remaining row for each page,
    for both readers, and the first reader of fresh rows would write their hint bits."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE hot_events")
        conn.execute("CHECKPOINT")  # the fill's dirty pages written now, not while timed


def best_of(runs: int, measure: Callable[[], int]) -> tuple[float, int]:
    """The shortest of ``runs`` timings of ``measure`` (which returns how many rows it read)."""
    timings = []
    count = 0
    for _ in range(runs):
        seconds, count = timed(measure)
        timings.append(seconds)
    return min(timings), count


def timed(measure: Callable[[], int]) -> tuple[float, int]:
    """Seconds ``measure`` took, and how many rows it read."""
    gc.collect()  # the garbage of earlier runs collected before, not while timed
    started = time.perf_counter()
    count = measure()
    return time.perf_counter() - started, count


def raw_pages(conn: psycopg.Connection[Any]) -> int:
    count, after = 0, 0
    with conn.cursor() as cursor:
        while True:
            cursor.execute(READ_PAGE, (after, list(CATALOG.names), PAGE))
            rows = cursor.fetchall()
            count += len(rows)
            if len(rows) < PAGE:
                return count
            after = rows[-1][0]


def raw_all(conn: psycopg.Connection[Any]) -> int:
    with conn.cursor() as cursor:
        cursor.execute(READ_ALL, (list(CATALOG.names),))
        return len(cursor.fetchall())


def raw_hot_read_pages(conn: psycopg.Connection[Any], *, binary: bool) -> int:
    """Pages of ``hot_read.events``, every column, as psycopg fetches them."""
    count, after = 0, 0
    with conn.cursor(binary=binary) as cursor:
        while True:
            rows = cursor.execute(READ_HOT_READ_PAGE, (after, PAGE)).fetchall()
            count += len(rows)
            if len(rows) < PAGE:
                return count
            after = rows[-1][0]


def follower_catch_up(source: EventSource, head: int, *, personal: bool) -> int:
    count = 0
    with Follower(source, page_size=PAGE, personal=personal) as follower:
        for batch in follower.batches():
            count += len(batch)
            if follower.position >= head:
                return count
    return count


def application_pages(app: HumansApplication) -> int:
    count, after = 0, 0
    while True:
        page = asyncio.run(app.read_log(after=after, limit=PAGE))
        count += len(page.events)
        if page.next is None:
            return count
        after = page.next


def median(timings: list[float]) -> float:
    return statistics.median(timings)


def rate(events: int, seconds: float) -> str:
    return f"{events / seconds:>10,.0f} events/s"


@dataclass
class CatchUp:
    """The timings of interleaved rounds: each raw way's, and the follower's tuned (True)
    and untouched (False); each round's ratio of the fastest raw way to the follower."""

    raw_s: dict[str, list[float]] = field(default_factory=dict)
    follow_s: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})
    ratios: dict[bool, list[float]] = field(default_factory=lambda: {True: [], False: []})


def catch_up_rounds(
    raws: dict[str, Callable[[], int]], follower: Callable[[], int], rounds: int, events: int
) -> CatchUp:
    """After a warm-up of each, ``rounds`` rounds: every raw way, then the follower tuned
    and untouched (in alternating order), so that all see the same moments."""
    for measure in (*raws.values(), follower):
        measure()  # warm-up: caches, plans, connections
    result = CatchUp(raw_s={how: [] for how in raws})
    for round_ in range(rounds):
        for how, measure in raws.items():
            seconds, count = timed(measure)
            assert count == events, (how, count, events)
            result.raw_s[how].append(seconds)
        fastest = min(timings[-1] for timings in result.raw_s.values())
        for tuned in (True, False) if round_ % 2 else (False, True):
            with tuned_runtime() if tuned else contextlib.nullcontext():
                seconds, count = timed(follower)
            assert count == events, ("follower", count, events)
            result.follow_s[tuned].append(seconds)
            result.ratios[tuned].append(fastest / seconds)
    return result


def print_catch_up(result: CatchUp, events: int, subject: str) -> float:
    """The table of a catch-up; returns the judged figure (tuned, median ratio)."""
    for how, timings in result.raw_s.items():
        print(f"    {'raw SELECT, ' + how:<35}{rate(events, median(timings))}")
    for tuned, how in ((True, "tuned, judged"), (False, "untouched")):
        label = f"{subject}, {how}"
        print(f"    {label:<35}{rate(events, median(result.follow_s[tuned]))}", end="")
        print(f"   {statistics.median(result.ratios[tuned]):.2f}x the raw pages (median ratio)")
        ratios = " ".join(f"{r:.2f}" for r in result.ratios[tuned])
        print(f"      ratio of each round: {ratios}")
    return statistics.median(result.ratios[True])


def bench_log(app: HumansApplication, url: str, events: int, rounds: int) -> float:
    """(a) over the log's table, and (b); the judged ratio."""
    source = PostgresLog(app)
    head = source.head()  # the newest public event
    with psycopg.connect(url, autocommit=True) as conn:  # warm, as the follower's are
        result = catch_up_rounds(
            {f"pages of {PAGE}": lambda: raw_pages(conn)},
            lambda: follower_catch_up(source, head, personal=True),
            rounds,
            events,
        )
        raw_all_s, _ = best_of(3, lambda: raw_all(conn))
    app_s, _ = best_of(1, lambda: application_pages(app))
    print(f"\n(a) catch-up of {events:,} events from PostgreSQL, {rounds} rounds (medians)")
    ratio = print_catch_up(result, events, "follower")
    print(f"    {'raw SELECT, one query':<35}{rate(events, raw_all_s)}   (best of 3)", end="")
    print(f"   follower (tuned) {raw_all_s / median(result.follow_s[True]):.2f}x of it")
    print(f"    {'app.read_log (no read-ahead)':<35}{rate(events, app_s)}", flush=True)

    store = PostgresProjectionStore(url)
    runner = ProjectionRunner(Attendance(), store, Feed(source), personal=True)
    runner.position()  # create the tables outside the timing
    with tuned_runtime():
        rebuild_s, _ = best_of(1, lambda: runner.rebuild() and events)
    store.close()
    source.close()
    print(f"\n(b) {'attendance rebuild':<35}{rate(events, rebuild_s)}")
    return ratio


def bench_hot_read(app: HumansApplication, url: str, events: int, rounds: int) -> float:
    """(a) over ``hot_read.events``, as a SQL reader; the judged ratio."""
    started = time.perf_counter()
    SqlReadProjector(app, url).catch_up()
    print(f"projected {events:,} events into hot_read in {time.perf_counter() - started:.1f}s")
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE hot_read.events")
        conn.execute("CHECKPOINT")
    name = f"bench_reader_{uuid.uuid4().hex[:8]}"
    reader_url = create_reader(url, name)  # as ``hot sql-access create`` makes it
    try:
        source = SqlReadLog(reader_url)
        head = source.head()
        with (
            psycopg.connect(reader_url, autocommit=True) as conn,
            psycopg.connect(reader_url, autocommit=True) as fast,
        ):
            set_json_loads(msgspec.json.decode, fast)  # as the follower decodes jsonb
            result = catch_up_rounds(
                {
                    f"pages of {PAGE}, text": lambda: raw_hot_read_pages(conn, binary=False),
                    f"pages of {PAGE}, binary": lambda: raw_hot_read_pages(conn, binary=True),
                    "binary, jsonb by msgspec": lambda: raw_hot_read_pages(fast, binary=True),
                },
                lambda: follower_catch_up(source, head, personal=False),
                rounds,
                events,
            )
        source.close()
    finally:
        revoke_reader(url, name)
    print(f"\n(a) catch-up of {events:,} events from hot_read, as a SQL reader, {rounds} rounds")
    print("    (medians; each round's ratio is against the fastest raw way of that round)")
    return print_catch_up(result, events, "follower")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events, 3 rounds")
    parser.add_argument(
        "--source",
        choices=("log", "hot_read"),
        default="log",
        help="the follower's source: HoT's log table, or hot_read as a SQL reader",
    )
    args = parser.parse_args()
    events = 20_000 if args.quick else 200_000
    rounds = 3 if args.quick else 7

    with scratch_database() as url:
        app = build_application(url, max_batch=1)
        try:
            started = time.perf_counter()
            fill(app, events)
            print(f"wrote {events:,} events in {time.perf_counter() - started:.1f}s")
            analyze(url)
            bench = bench_log if args.source == "log" else bench_hot_read
            ratio = bench(app, url, events, rounds)
        finally:
            app.close()

    ok = ratio >= TARGET_CATCH_UP
    verdict = "met" if ok else "MISSED"
    print(f"\ntarget: catch-up (tuned) >= {TARGET_CATCH_UP}x raw SELECT: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
