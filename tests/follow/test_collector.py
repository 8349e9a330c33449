"""The garbage collector is paused while a page is decoded, and comes back as it was."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from hot.follow.collector import collection_paused


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
