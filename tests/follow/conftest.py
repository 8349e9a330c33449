"""Fixtures and helpers of the follower tests: lives to write, a relay to run, the full log.

Writers use the application's commands from several threads (as the API does), so
the log has the gaps of real use: email claims are internal events between the
public ones.
"""

from __future__ import annotations

import contextlib
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis

from hot.api import create_app
from hot.application import HumansApplication, RecordedEvent
from hot.infra.api_keys import ApiKeyStore
from hot.infra.database import create_database, drop_database
from hot.infra.postgres_log import PostgresLog
from hot.infra.relay import Relay
from hot.infra.sql_read.projector import SqlReadProjector
from hot_follow import Feed, Follower, ProjectionRunner
from tests.blocking import blocking_application
from tests.event_log import live_a_life
from tests.serving import free_port, served
from tests.waiting import wait_until


def write_lives(
    app: HumansApplication,
    humans: int,
    days: int,
    writers: int = 4,
    stop: threading.Event | None = None,
) -> None:
    """``humans`` lives of ``days`` attendances each, written by ``writers`` threads at once.

    With ``stop``, writers begin no new life once it is set.
    """
    tags = iter(range(humans))
    lock = threading.Lock()
    run = uuid.uuid4().hex[:8]

    def writer() -> None:
        while True:
            with lock:
                number = next(tags, None)
            if number is None or (stop is not None and stop.is_set()):
                return
            live_a_life(app, days, f"h{run}-{number}")

    threads = [threading.Thread(target=writer) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@contextlib.contextmanager
def writing(
    app: HumansApplication, humans: int, days: int, writers: int = 4, *, stop_at_end: bool = False
) -> Iterator[None]:
    """Write lives in the background during the block, then wait for all of them to be
    written; or, with ``stop_at_end``, only for the lives already begun."""
    errors: list[BaseException] = []
    stop = threading.Event()

    def target() -> None:
        try:
            write_lives(app, humans, days, writers, stop)
        except BaseException as error:
            errors.append(error)

    thread = threading.Thread(target=target)
    thread.start()
    try:
        yield
    finally:
        if stop_at_end:
            stop.set()
        thread.join()
    if errors:
        raise errors[0]


def full_log(
    app: HumansApplication, names: tuple[str, ...] = (), *, personal: bool = True
) -> list[RecordedEvent]:
    """Every public event (of ``names``), by the application's own reader (personal fields
    masked unless ``personal``)."""
    events: list[RecordedEvent] = []
    after = 0
    while True:
        page = app.read_log(after=after, limit=5000, names=names, personal=personal)
        events.extend(page.events)
        if page.next is None:
            return events
        after = page.next


def collect(
    follower: Follower, until: Callable[[list[RecordedEvent]], bool], timeout: float
) -> list[RecordedEvent]:
    """Poll ``follower`` until ``until(events so far)`` holds; fail after ``timeout`` s."""
    events: list[RecordedEvent] = []
    deadline = time.monotonic() + timeout
    while not until(events):
        if time.monotonic() > deadline:
            last = events[-1].position if events else None
            raise AssertionError(f"Not within {timeout} s: {len(events)} events, last {last}")
        events.extend(follower.poll(0.2))
    return events


class Collector(threading.Thread):
    """Polls a follower in a thread of its own, keeping everything it hands out."""

    def __init__(self, follower: Follower, pause: float = 0.0) -> None:
        super().__init__()
        self.follower = follower
        self.pause = pause  # seconds of "work" per batch: a slow consumer
        self.events: list[RecordedEvent] = []

    def run(self) -> None:
        for batch in self.follower.batches():
            self.events.extend(batch)
            time.sleep(self.pause)


@contextlib.contextmanager
def running(runner: ProjectionRunner[Any]) -> Iterator[ProjectionRunner[Any]]:
    """``runner.run()`` in a thread for the duration of the block; stopped afterwards."""
    thread = threading.Thread(target=runner.run)
    thread.start()
    try:
        yield runner
    finally:
        runner.stop()
        thread.join(10)


def go_live(follower: Follower) -> None:
    """Poll a caught-up follower once more: at the end of the log, it switches to Redis."""
    assert follower.poll(0.3) == []
    assert follower.live


@pytest.fixture
def redis_client(redis_server_url: str) -> Iterator[redis.Redis]:
    client = redis.Redis.from_url(redis_server_url)
    yield client
    client.close()


@pytest.fixture
def log_source(app: HumansApplication) -> Iterator[PostgresLog]:
    source = PostgresLog(app)
    yield source
    source.close()


@pytest.fixture
def feed(log_source: PostgresLog, redis_client: redis.Redis, redis_prefix: str) -> Feed:
    return Feed(log_source, redis_client, redis_prefix)


@contextlib.contextmanager
def running_relay(
    database_url: str, client: redis.Redis, prefix: str, **options: Any
) -> Iterator[Relay]:
    """A relay in this process, on its own application (as ``hot relay`` would run)."""
    app = blocking_application(database_url, max_batch=1)
    relay = Relay(
        app, client, database_url, prefix=prefix, poll_interval=0.2, backoff=0.2, **options
    )
    relay.start()
    try:
        yield relay
    finally:
        relay.stop()
        app.close()


@pytest.fixture
def relay(database_url: str, redis_client: redis.Redis, redis_prefix: str) -> Iterator[Relay]:
    with running_relay(database_url, redis_client, redis_prefix) as running:
        yield running


@contextlib.contextmanager
def running_projector(database_url: str) -> Iterator[SqlReadProjector]:
    """The ``hot_read`` projector in this process, on its own application (as ``hot relay``
    runs it beside the relay)."""
    app = blocking_application(database_url, max_batch=1)
    projector = SqlReadProjector(
        app, database_url, poll_interval=0.2, takeover_interval=0.2, backoff=0.2
    )
    projector.start()
    try:
        yield projector
    finally:
        projector.stop()
        app.close()


@pytest.fixture
def projector(database_url: str) -> Iterator[SqlReadProjector]:
    with running_projector(database_url) as running:
        yield running


def wait_projected(projector: SqlReadProjector, position: int, timeout: float = 30) -> None:
    """Wait until ``hot_read`` holds every public event up to ``position``."""
    wait_until(
        lambda: projector.status().position >= position, timeout, f"hot_read reaches {position}"
    )


@pytest.fixture
def personal_api(app: HumansApplication, database_url: str) -> Iterator[tuple[str, str]]:
    """HoT's API served on a socket, and a token with the ``personal`` scope."""
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create("personal-reader", ["read", "personal"])
        with served(create_app(app, api_keys), free_port()) as url:
            yield url, token


@pytest.fixture
def attendance_database_url(postgres_server_url: str) -> Iterator[str]:
    """Another database: the attendance tables live apart from HoT's events."""
    name = f"hot_test_att_{uuid.uuid4().hex[:10]}"
    yield create_database(postgres_server_url, name)
    drop_database(postgres_server_url, name)
