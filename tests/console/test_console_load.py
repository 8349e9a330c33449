"""The live feed under load: events arriving by the hundred a second do not freeze the
page (a bounded list, only its visible rows drawn, at most once a frame)."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid

import pytest
from playwright.sync_api import expect

from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.bootstrap import build_application
from tests.console.conftest import Console, Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

EVENTS = 3000
KEPT = 2000  # what the feed keeps in memory (feed.js, KEEP)
CONCURRENCY = 64

# Counts every animation frame's gap and every long task, from the page's own clock.
WATCH = """() => {
  window.frames_seen = { gaps: [], last: performance.now(), long: [] };
  const tick = (now) => {
    frames_seen.gaps.push(now - frames_seen.last);
    frames_seen.last = now;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) frames_seen.long.push(entry.duration);
  }).observe({ type: "longtask", buffered: false });
}"""


async def burst(app: HumansApplication) -> float:
    """Registers EVENTS humans, CONCURRENCY at a time, through the application on the
    server's database (over HTTP this machine's client would be the bottleneck); the
    rate a second at which they were committed. The server learns of them as of any
    other process's commits, and its live feed sends them."""
    numbers = iter(range(EVENTS))

    async def client() -> None:
        for n in numbers:
            await app.register(f"Load {n}", f"load-{uuid.uuid4().hex}@t.example", HumanKind.GUEST)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    return EVENTS / (time.monotonic() - started)


def test_the_feed_keeps_up_with_hundreds_of_events_a_second(
    console: Console, server: Server
) -> None:
    page = console.page
    console.sign_in(server.read)
    expect(page.locator("#feed-status")).to_have_text("live")
    page.evaluate(WATCH)
    rates: list[float] = []  # posted from a thread: Playwright's loop runs in this one
    app = build_application(server.database_url)
    try:
        poster = threading.Thread(target=lambda: rates.append(asyncio.run(burst(app))))
        poster.start()
        poster.join(120)
    finally:
        app.close()
    (rate,) = rates
    print(f"posted {EVENTS} events at {rate:.0f}/s")
    assert rate >= 500, f"{rate:.0f} events/s: not the load this test is about"
    expect(page.locator("#feed-count")).to_have_text(
        f"{KEPT} shown of the last {KEPT}, {EVENTS} received", timeout=30_000
    )
    rows = page.locator("#feed-list .row").count()
    assert 0 < rows < 60, rows  # only the visible rows are in the page
    seen = page.evaluate("frames_seen")
    worst_gap = max(seen["gaps"])
    print(f"frames: {len(seen['gaps'])}, worst gap {worst_gap:.0f} ms, long tasks {seen['long']}")
    assert worst_gap < 500, seen["gaps"]  # the page never froze for half a second
    console.shot("live-feed-under-load")
