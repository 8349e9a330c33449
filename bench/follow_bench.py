"""Benchmark of following HoT, against the bare minimum, in one run.

(a) Catch-up: a ``Follower`` reading every event of a 200,000-event log from
    PostgreSQL into decoded ``RecordedEvent``s, against a raw psycopg ``SELECT`` of
    the same rows (all columns, fetched). Both read pages of the same size; a single
    ``SELECT`` of everything and the application's ``app.read_log`` (the same reader,
    on the application's pool, without reading ahead) are measured too, for reference.
    The follower runs twice a round: in an interpreter tuned as ``hot attendance``
    tunes its own (``tune_runtime``), which is judged, and in an untouched one (the
    collector as Python sets it), shown beside: what a team's own process gets.
    The machine is shared and noisy, so after a warm-up round the raw pages and the
    follower are timed in alternation, round after round; each round gives a ratio,
    and the figure is the median ratio (every round's ratio is shown).
(b) The attendance projection's rebuild (``ProjectionRunner.rebuild``), in events/s,
    tuned as ``hot attendance --rebuild`` runs.

    uv run python bench/follow_bench.py [--quick]

Uses HOT_BENCH_DATABASE_URL (default: the local server); creates and drops a
database of its own. Target: catch-up >= 0.5x the raw SELECT.
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
from datetime import date, timedelta
from typing import Any

import psycopg

from hot.application import CATALOG, HumansApplication
from hot.attendance import Attendance
from hot.cli.runtime import tuned_runtime
from hot.domain import Human, HumanKind
from hot.follow import Feed, Follower, PostgresLog, PostgresProjectionStore, ProjectionRunner
from hot.infra.bootstrap import build_application
from hot.infra.database import create_database, drop_database

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


def follower_catch_up(source: PostgresLog, head: int) -> int:
    count = 0
    with Follower(source, page_size=PAGE, personal=True) as follower:
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


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20,000 events, 3 rounds")
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
            source = PostgresLog(app)
            head = source.head()  # the newest public event
            with psycopg.connect(url, autocommit=True) as conn:  # warm, as the follower's are
                raw_pages(conn), follower_catch_up(source, head)  # warm-up: caches, plans
                raw_page_s: list[float] = []
                follow_s: dict[bool, list[float]] = {True: [], False: []}
                ratios: dict[bool, list[float]] = {True: [], False: []}
                for round_ in range(rounds):  # interleaved: all see the same moments
                    raw_s, n_raw = timed(lambda: raw_pages(conn))
                    raw_page_s.append(raw_s)
                    for tuned in (True, False) if round_ % 2 else (False, True):
                        with tuned_runtime() if tuned else contextlib.nullcontext():
                            subject_s, n_follow = timed(lambda: follower_catch_up(source, head))
                        assert n_raw == n_follow == events, (n_raw, n_follow, events)
                        follow_s[tuned].append(subject_s)
                        ratios[tuned].append(raw_s / subject_s)
                raw_all_s, _ = best_of(3, lambda: raw_all(conn))
            app_s, _ = best_of(1, lambda: application_pages(app))
            ratio = statistics.median(ratios[True])
            print(f"\n(a) catch-up of {events:,} events from PostgreSQL, {rounds} rounds (medians)")
            print(f"    raw SELECT, pages of {PAGE}       {rate(events, median(raw_page_s))}")
            print(f"    raw SELECT, one query            {rate(events, raw_all_s)}   (best of 3)")
            for tuned, how in ((True, "tuned, judged"), (False, "untouched   ")):
                seconds = median(follow_s[tuned])
                print(f"    follower, {how}        {rate(events, seconds)}", end="")
                print(
                    f"   {statistics.median(ratios[tuned]):.2f}x the raw pages (median ratio), "
                    f"{raw_all_s / seconds:.2f}x the one query"
                )
                print(f"      ratio of each round: {' '.join(f'{r:.2f}' for r in ratios[tuned])}")
            print(f"    app.read_log (no read-ahead)     {rate(events, app_s)}", flush=True)

            store = PostgresProjectionStore(url)
            runner = ProjectionRunner(Attendance(), store, Feed(source), personal=True)
            runner.position()  # create the tables outside the timing
            with tuned_runtime():
                rebuild_s, _ = best_of(1, lambda: runner.rebuild() and events)
            store.close()
            source.close()
            print(f"\n(b) attendance rebuild               {rate(events, rebuild_s)}")
        finally:
            app.close()

    ok = ratio >= TARGET_CATCH_UP
    verdict = "met" if ok else "MISSED"
    print(f"\ntarget: catch-up (tuned) >= {TARGET_CATCH_UP}x raw SELECT: {verdict}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
