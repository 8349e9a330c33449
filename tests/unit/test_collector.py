"""The garbage collector is paused while a page is decoded, and comes back as it was
(at once, or after a hold into the next page's pause)."""

from __future__ import annotations

import gc
import threading
import time
from collections.abc import Iterator

import pytest

from hot.infra.collector import collection_paused


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    enabled = gc.isenabled()
    yield
    (gc.enable if enabled else gc.disable)()


def test_it_is_off_inside_and_on_again_after_even_on_an_error() -> None:
    gc.enable()
    with collection_paused():
        assert not gc.isenabled()
    assert gc.isenabled()

    with pytest.raises(ZeroDivisionError), collection_paused():
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_it_stays_off_after_if_it_was_off_before() -> None:
    gc.disable()
    with collection_paused():
        pass
    assert not gc.isenabled()


def test_pauses_of_several_threads_nest() -> None:
    gc.enable()
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with collection_paused():
            inside.set()
            leave.wait(5)

    thread = threading.Thread(target=other)
    with collection_paused():
        thread.start()
        inside.wait(5)
    assert not gc.isenabled()  # the other thread's pause goes on
    leave.set()
    thread.join(5)
    assert gc.isenabled()


def test_a_hold_keeps_it_off_into_the_next_pause_and_a_timer_resumes_it() -> None:
    gc.enable()
    with collection_paused(hold=0.3):
        pass
    assert not gc.isenabled()  # held, for the next page
    with collection_paused(hold=0.3):
        assert not gc.isenabled()
    assert not gc.isenabled()
    deadline = time.monotonic() + 5
    while not gc.isenabled() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gc.isenabled()  # no other pause came: the timer resumed it


def test_a_pause_without_hold_ends_a_hold_at_once() -> None:
    gc.enable()
    with collection_paused(hold=30):
        pass
    with collection_paused():
        pass
    assert gc.isenabled()


def test_a_hold_leaves_it_off_if_it_was_off_before() -> None:
    gc.disable()
    with collection_paused(hold=0.05):
        pass
    time.sleep(0.3)
    assert not gc.isenabled()


def test_a_hold_after_an_ended_one_gets_a_timer_of_its_own() -> None:
    gc.enable()
    with collection_paused(hold=30):
        pass
    with collection_paused():  # ends the first hold, and its timer
        pass
    with collection_paused(hold=0.1):
        pass
    time.sleep(0.5)
    assert gc.isenabled()
