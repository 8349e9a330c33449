"""Fixtures of the console's browser tests: ``hot serve`` as a real process on the test
servers, Debian's Chromium driven by Playwright, tokens of each kind, and screenshots.

Playwright's own browser downloads are never used: the browser is the system's
``chromium`` (``.ci/run`` installs it). Every request a page makes is recorded; each
test fails if one went anywhere but the server under test.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import redis
from playwright.sync_api import Browser, Page, Playwright, Request, sync_playwright

from hot.infra.api_keys import ApiKeyStore
from tests.browser import CHROMIUM_FLAGS
from tests.processes import HotProcess
from tests.serving import free_port
from tests.waiting import wait_until
from tests.workers import answers


@dataclass(frozen=True)
class Server:
    """``hot serve`` under test: its base URL and a token of each kind."""

    url: str
    database_url: str  # its database, for a test that writes past the API (a load)
    admin: str
    read: str  # read only: personal fields masked, no commands
    writer: str  # read, write and personal, not admin: commands but forget

    def api(self, token: str | None = None) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {token or self.admin}"}
        )


@pytest.fixture(scope="module")
def server(
    module_database_url: str, redis_server_url: str, tmp_path_factory: Any
) -> Iterator[Server]:
    prefix = f"hot-test-{uuid.uuid4().hex[:12]}"
    with ApiKeyStore(module_database_url) as api_keys:
        suffix = uuid.uuid4().hex[:6]
        admin = api_keys.create(f"admin-{suffix}", ["admin"])
        read = api_keys.create(f"reader-{suffix}", ["read"])
        writer = api_keys.create(f"writer-{suffix}", ["read", "write", "personal"])
    port = free_port()
    data_dir = tmp_path_factory.mktemp("hot-data")
    with HotProcess(
        ["serve", "--port", str(port)],
        module_database_url,
        redis_server_url,
        prefix,
        HOT_DATA_DIR=str(data_dir),
    ) as process:
        process.start()
        wait_until(lambda: answers(port) or not process.running(), 60, "hot serve answers")
        assert process.running(), process.output()
        yield Server(f"http://127.0.0.1:{port}", module_database_url, admin, read, writer)
        assert process.terminate(30) == 0, process.output()
    client = redis.Redis.from_url(redis_server_url)
    leftovers = list(client.scan_iter(f"{prefix}*"))
    if leftovers:
        client.delete(*leftovers)
    client.close()


@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is needed: apt-get install -y chromium"
    launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
    yield launched
    launched.close()


@dataclass
class Console:
    """A page of the console in a fresh browser context, every request it made, and
    screenshots saved under the test's temporary directory."""

    page: Page
    server: Server
    shots: Path
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, fragment: str = "") -> None:
        self.page.goto(f"{self.server.url}/console{fragment}")

    def sign_in(self, token: str) -> None:
        self.open()
        self.page.fill("#token", token)
        self.page.click("#sign-in-form button[type=submit]")
        self.page.wait_for_selector("#nav:not([hidden])")

    def go(self, fragment: str) -> None:
        self.page.evaluate(f"location.hash = {fragment!r}")

    def shot(self, name: str) -> Path:
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def foreign_requests(self) -> list[str]:
        return [url for url in self.requests if not _local(url, self.server.url)]


def _local(url: str, server: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about"}:
        return True
    return f"{parts.scheme}://{parts.netloc}" == server


@pytest.fixture
def console(browser: Browser, server: Server, tmp_path: Path) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    made = Console(page, server, shots)

    def seen(request: Request) -> None:
        made.requests.append(request.url)

    page.on("request", seen)
    page.on("pageerror", lambda error: made.errors.append(str(error)))
    yield made
    context.close()
    assert made.foreign_requests() == []
    assert made.errors == [], made.errors
