"""The next page is fetched ahead in a thread; what is handed out is what a fetch answers."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.postgres_log import PostgresLog
from hot_follow.read_ahead import ReadAhead
from tests.event_log import TODAY, live_a_life

from .conftest import full_log


class Recording:
    """A fetch that answers ``request * 10`` and records who asked, from which thread."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.release = threading.Event()
        self.release.set()
        self.fail: set[int] = set()

    def __call__(self, request: int) -> int:
        self.release.wait(5)
        self.calls.append((request, threading.current_thread().name))
        if request in self.fail:
            self.fail.discard(request)
            raise ConnectionError(f"page {request}")
        return request * 10


def test_a_page_fetched_ahead_is_handed_out_for_its_own_request_only() -> None:
    fetch = Recording()
    pages = ReadAhead(fetch)

    assert pages.get(1) == 10  # nothing ahead: fetched now, here
    pages.prefetch(2)
    assert pages.get(2) == 20
    pages.prefetch(3)
    assert pages.get(4) == 40  # another request: fetched now, the one ahead dropped
    assert pages.get(3) == 30  # ...and fetched again when asked for
    pages.close()

    here = threading.current_thread().name
    threads = {request: name == here for request, name in fetch.calls}
    assert (threads[1], threads[2], threads[4]) == (True, False, True)  # 2 fetched ahead
    assert [request for request, _ in fetch.calls].count(2) == 1


def test_an_error_ahead_is_raised_to_whoever_asks_for_that_page_then_it_is_fetched_again() -> None:
    fetch = Recording()
    fetch.fail = {5}
    pages = ReadAhead(fetch)

    pages.prefetch(5)
    with pytest.raises(ConnectionError, match="page 5"):
        pages.get(5)
    assert pages.get(5) == 50
    pages.close()


def test_close_waits_for_a_fetch_under_way_and_then_nothing_more_is_fetched_ahead() -> None:
    fetch = Recording()
    fetch.release.clear()
    pages = ReadAhead(fetch)
    pages.prefetch(6)
    closing = threading.Thread(target=pages.close)
    closing.start()
    closing.join(0.2)
    assert closing.is_alive()  # waiting for the fetch under way
    fetch.release.set()
    closing.join(5)
    assert not closing.is_alive()

    pages.prefetch(7)
    assert pages.get(8) == 80
    assert [r for r, _ in fetch.calls] in ([6, 8], [8])


@pytest.mark.postgres
def test_reading_page_after_page_while_events_are_written_gives_the_log(
    app: HumansApplication,
) -> None:
    live_a_life(app, 4, "ed")
    source = PostgresLog(app)
    events, after = [], 0
    while True:
        page = source.read(after, 3)  # a full page: the next one is fetched ahead
        events += page
        if len(page) < 3:
            break
        after = page[-1].position
        if len(events) == 6:  # written after the next page was fetched ahead
            human = app.register("Fay", "fay@example.org", HumanKind.EMPLOYEE).id
            app.join(human, TODAY - timedelta(days=1), "guest")

    log = full_log(app)
    assert [e.position for e in events] == [e.position for e in log[: len(events)]]
    assert events == log[: len(events)]
    assert source.read(events[-1].position, 100) == log[len(events) :]
    source.close()
