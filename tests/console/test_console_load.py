"""The live feed under load: events arriving by the hundred a second are all counted, the
page keeps only the last KEPT of them and puts only the visible rows in the DOM, and it
still answers a click afterwards.

How fast it goes and how smooth the page stays (events a second, animation-frame gaps
against the idle page) are figures, measured by ``bench/console_bench.py``, not here.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor

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


async def burst(app: HumansApplication) -> None:
    """Registers EVENTS humans, CONCURRENCY at a time, through the application on the
    server's database (over HTTP this machine's client would be the bottleneck). The
    server learns of them as of any other process's commits, and its live feed sends
    them."""
    numbers = iter(range(EVENTS))

    async def client() -> None:
        for n in numbers:
            await app.register(f"Load {n}", f"load-{uuid.uuid4().hex}@t.example", HumanKind.GUEST)

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))


def test_the_feed_takes_a_burst_of_events_and_keeps_only_what_it_shows(
    console: Console, server: Server
) -> None:
    page = console.page
    console.sign_in(server.read)
    expect(page.locator("#feed-status")).to_have_text("live")
    app = build_application(server.database_url)
    try:  # posted from a thread: Playwright's loop runs in this one
        with ThreadPoolExecutor(1) as poster:
            poster.submit(lambda: asyncio.run(burst(app))).result(120)
    finally:
        app.close()

    # Every event arrived; only the last KEPT are kept.
    expect(page.locator("#feed-count")).to_have_text(
        f"{KEPT} shown of the last {KEPT}, {EVENTS} received", timeout=30_000
    )
    # Only the visible rows are in the page, not one per event kept.
    rows = page.locator("#feed-list .row")
    assert 0 < rows.count() < 60, rows.count()
    console.shot("live-feed-under-load")

    # The page still answers: a row clicked shows its event in full.
    newest = rows.first
    position = newest.get_attribute("data-position")
    newest.click()
    expect(page.locator("#feed-detail h2")).to_have_text(f"HUMAN_REGISTERED at {position}")
    detail = page.locator("#feed-detail pre.json")
    expect(detail).to_have_count(2)
    expect(detail.nth(1)).to_contain_text(f'"hotposition": {position}')
