"""Benchmark of the console's live feed under load, against the same page idle, in one run.

``hot serve`` runs as a real process on a database of its own; Debian's Chromium
(driven by Playwright) signs in on ``/console`` with a ``read`` token and stays on the
live feed. A script in the page records the gap between every two animation frames
(and every long task), on the page's own clock. Each round has two phases:

- baseline: the live feed open, connected and idle (no event) for a few seconds;
- subject: a burst of humans registered through the application on the server's
  database, 64 concurrent coroutines on one event loop (as the API runs commands),
  meant to commit at least 500 events a second; the server's live feed sends them to
  the page as it sends any other process's commits. The phase lasts until the page
  has received every event of the burst.

Printed each round and as the median of the rounds (baseline and subject interleaved):
events posted a second (said so when under 500: not the load this is about); events
received by the page a second (counted from the page's ``#feed-count``, burst start to
last event in, on this process's clock); the p50, p99 and worst frame gaps of each
phase and the subject / baseline ratios of the p99 and of the worst gap; long tasks
(> 50 ms); the rows in the DOM after the burst (the list is virtualised: only the
visible ones should be there). A warm-up burst comes first, not measured.

    uv run python bench/console_bench.py [--quick]

Needs Debian's ``chromium`` (``apt-get install -y chromium``; Playwright's own browser
download is not used). Uses HOT_BENCH_DATABASE_URL and HOT_BENCH_REDIS_URL (default:
the local servers); creates and drops a database of its own, and deletes its own Redis
keys. Run it alone on the machine (``flock /tmp/bench.lock ...`` on a shared one): the
browser, the server and the load share its cores.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import redis
from api_bench import fresh_database  # bench/, beside this script
from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the project: ``tests``

from tests.browser import CHROMIUM_FLAGS
from tests.processes import HotProcess
from tests.serving import free_port
from tests.waiting import wait_until
from tests.workers import answers

from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import build_application

REDIS_URL = os.environ.get("HOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CONCURRENCY = 64
TARGET_RATE = 500  # events/s the issue asks the feed to keep up with
WARMUP_EVENTS = 300

# Records every animation frame's gap and every long task, on the page's own clock
# (as tests/console/test_console_load.py watched it); ``take`` hands them over and
# starts afresh.
WATCH = """() => {
  const seen = { gaps: [], long: [], last: performance.now() };
  window.frames_seen = seen;
  const tick = (now) => {
    seen.gaps.push(now - seen.last);
    seen.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) seen.long.push(entry.duration);
  }).observe({ type: "longtask", buffered: false });
}"""
TAKE = """() => {
  const taken = { gaps: frames_seen.gaps, long: frames_seen.long };
  frames_seen.gaps = [];
  frames_seen.long = [];
  return taken;
}"""
RECEIVED = """() => {
  const found = /(\\d+) received/.exec(document.querySelector("#feed-count").textContent);
  return found ? Number(found[1]) : 0;
}"""
RECEIVED_AT_LEAST = f"(wanted) => ({RECEIVED})() >= wanted"


@dataclass(frozen=True)
class Plan:
    events: int  # a burst
    idle: float  # seconds of the baseline
    rounds: int


FULL = Plan(events=5000, idle=5.0, rounds=3)
QUICK = Plan(events=2000, idle=3.0, rounds=3)


@dataclass(frozen=True)
class Frames:
    """The frame gaps (ms) and long tasks (ms) of one phase."""

    gaps: list[float]
    long: list[float]

    def p(self, q: float) -> float:
        ordered = sorted(self.gaps)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]

    @property
    def worst(self) -> float:
        return max(self.gaps)


@dataclass(frozen=True)
class Round:
    idle: Frames
    burst: Frames
    posted: float  # events/s committed
    received: float  # events/s in the page, from the burst's start to its last event
    rows: int  # row elements in the page's list after the burst

    @property
    def p99_ratio(self) -> float:
        return self.burst.p(0.99) / self.idle.p(0.99)

    @property
    def worst_ratio(self) -> float:
        return self.burst.worst / self.idle.worst


# The load: the application on the server's database, in a thread of its own -----------

T = TypeVar("T")


class Poster:
    """The humans application on one event loop, in a thread of its own (Playwright's
    sync API owns the main thread's)."""

    def __init__(self, database_url: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app: HumansApplication = build_application(database_url)

    def submit(self, work: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(work, self.loop)

    def close(self) -> None:
        self.app.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


async def burst(app: HumansApplication, events: int) -> tuple[float, float]:
    """Registers ``events`` humans, ``CONCURRENCY`` at a time; when it started and ended
    (``time.monotonic``)."""
    numbers = iter(range(events))

    async def client() -> None:
        for n in numbers:
            await app.register(f"Load {n}", f"load-{uuid.uuid4().hex}@t.example", HumanKind.GUEST)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return started, time.monotonic()


# The server and the page ----------------------------------------------------------------


@contextmanager
def hot_serve(database_url: str) -> Iterator[str]:
    """``hot serve`` as a real process on ``database_url``, its streams under a prefix of
    its own (deleted after); its base URL."""
    port = free_port()
    prefix = f"hot-bench-console-{uuid.uuid4().hex[:8]}"
    with (
        tempfile.TemporaryDirectory(prefix="hot-bench-") as data_dir,
        HotProcess(
            ["serve", "--port", str(port)], database_url, REDIS_URL, prefix, HOT_DATA_DIR=data_dir
        ) as process,
    ):
        process.start()
        try:
            wait_until(lambda: answers(port) or not process.running(), 60, "hot serve answers")
            if not process.running():
                sys.exit(f"hot serve did not answer:\n{process.output()}")
            yield f"http://127.0.0.1:{port}"
        finally:
            process.terminate(30)
            client = redis.Redis.from_url(REDIS_URL)
            leftovers = list(client.scan_iter(f"{prefix}*"))
            if leftovers:
                client.delete(*leftovers)
            client.close()


def signed_in_feed(page: Page, url: str, token: str) -> None:
    """Sign in on ``/console`` (the live feed is its first page) and wait until live."""
    page.goto(f"{url}/console")
    page.fill("#token", token)
    page.click("#sign-in-form button[type=submit]")
    page.wait_for_selector("#nav:not([hidden])")
    page.wait_for_function("() => document.querySelector('#feed-status')?.textContent === 'live'")


def received(page: Page) -> int:
    return int(page.evaluate(RECEIVED))


def take(page: Page) -> Frames:
    seen = page.evaluate(TAKE)
    return Frames([float(g) for g in seen["gaps"]], [float(t) for t in seen["long"]])


def send_burst(page: Page, poster: Poster, events: int) -> tuple[float, float]:
    """A burst of ``events``, waited for until the page has received them all; the rates
    a second posted and received."""
    wanted = received(page) + events
    future = poster.submit(burst(poster.app, events))
    timeout_ms = max(60_000, events * 20)  # 50 events/s: something is broken
    page.wait_for_function(RECEIVED_AT_LEAST, arg=wanted, polling=50, timeout=timeout_ms)
    in_page = time.monotonic()
    started, ended = future.result()
    return events / (ended - started), events / (in_page - started)


def one_round(page: Page, poster: Poster, plan: Plan) -> Round:
    take(page)  # drop what came before: the page idle from here
    time.sleep(plan.idle)
    idle = take(page)
    posted, got = send_burst(page, poster, plan.events)
    under_load = take(page)
    rows = page.locator("#feed-list .row").count()
    time.sleep(1.0)  # the page settles before the next baseline
    return Round(idle, under_load, posted, got, rows)


# Output ----------------------------------------------------------------------------------


def gaps_line(frames: Frames) -> str:
    long = f"{len(frames.long)} long tasks" + (
        f" (longest {max(frames.long):.0f} ms)" if frames.long else ""
    )
    return (
        f"{len(frames.gaps):5d} frames, gap p50 {frames.p(0.5):6.1f} ms, "
        f"p99 {frames.p(0.99):6.1f} ms, worst {frames.worst:6.1f} ms; {long}"
    )


def show_round(n: int, each: Round) -> None:
    short = "" if each.posted >= TARGET_RATE else f"  (UNDER {TARGET_RATE}/s: not the load asked)"
    print(f"round {n}:")
    print(f"  baseline, idle      {gaps_line(each.idle)}")
    print(f"  subject, burst      {gaps_line(each.burst)}")
    print(f"  posted              {each.posted:6.0f} events/s{short}")
    print(f"  received by page    {each.received:6.0f} events/s")
    print(f"  p99 gap ratio       {each.p99_ratio:6.2f}x")
    print(f"  worst gap ratio     {each.worst_ratio:6.2f}x")
    print(f"  rows in the DOM     {each.rows:6d}", flush=True)


def show_medians(rounds: list[Round], kept: str) -> None:
    def median(values: list[float]) -> float:
        return statistics.median(values)

    def listed(values: list[float], unit: str = "", digits: int = 0) -> str:
        return ", ".join(f"{v:.{digits}f}{unit}" for v in values)

    posted = [r.posted for r in rounds]
    print(f"\nmedian of {len(rounds)} rounds (each round's in brackets):")
    print(f"  posted              {median(posted):6.0f} events/s  [{listed(posted)}]")
    got = [r.received for r in rounds]
    print(f"  received by page    {median(got):6.0f} events/s  [{listed(got)}]")
    for phase in ("idle", "burst"):
        frames = [getattr(r, phase) for r in rounds]
        title = "baseline, idle" if phase == "idle" else "subject, burst"
        p50 = median([f.p(0.5) for f in frames])
        p99 = median([f.p(0.99) for f in frames])
        worst = median([f.worst for f in frames])
        long = median([float(len(f.long)) for f in frames])
        print(
            f"  {title:<19} gap p50 {p50:6.1f} ms, p99 {p99:6.1f} ms, worst {worst:6.1f} ms; "
            f"{long:.0f} long tasks"
        )
    p99s = [r.p99_ratio for r in rounds]
    worsts = [r.worst_ratio for r in rounds]
    print(f"  p99 gap, subject / baseline    {median(p99s):5.2f}x  [{listed(p99s, 'x', 2)}]")
    print(f"  worst gap, subject / baseline  {median(worsts):5.2f}x  [{listed(worsts, 'x', 2)}]")
    rows = [float(r.rows) for r in rounds]
    print(f"  rows in the DOM     {median(rows):6.0f}  ({kept})")
    if median(posted) < TARGET_RATE:
        print(
            f"  NOTE: the burst committed under {TARGET_RATE} events/s (median): "
            "this run did not load the page as much as the issue asks"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="bursts of 2,000 events, 3 s idle baselines"
    )
    args = parser.parse_args()
    plan = QUICK if args.quick else FULL
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("Debian's chromium is needed: apt-get install -y chromium")
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    with fresh_database() as database_url, hot_serve(database_url) as url:
        with ApiKeyStore(database_url) as api_keys:
            token = api_keys.create(f"bench-{uuid.uuid4().hex[:6]}", ["read"])
        poster = Poster(database_url)
        try:
            with sync_playwright() as driver:
                browser = driver.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
                print(
                    f"{os.cpu_count()} CPUs, load average {load}; Chromium {browser.version}; "
                    f"{plan.rounds} rounds of {plan.idle:.0f} s idle, then a burst of "
                    f"{plan.events} events ({CONCURRENCY} coroutines)",
                    flush=True,
                )
                page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
                page.set_default_timeout(30_000)
                signed_in_feed(page, url, token)
                page.evaluate(WATCH)
                send_burst(page, poster, WARMUP_EVENTS)  # not measured
                rounds = []
                for n in range(1, plan.rounds + 1):
                    rounds.append(one_round(page, poster, plan))
                    show_round(n, rounds[-1])
                kept = page.locator("#feed-count").text_content() or ""
                show_medians(rounds, f"#feed-count: {kept!r}")
                browser.close()
        finally:
            poster.close()


if __name__ == "__main__":
    main()
