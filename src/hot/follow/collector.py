"""``collection_paused``: no cyclic garbage collection while a page of events is decoded.

Decoding a page makes thousands of small container objects (payloads, events) that
live until the page is consumed. Each few hundred of them trigger a collection,
which walks every young object, and now and then the whole heap: about half of the
decoding time of a catch-up, for nothing, since decoding makes no reference cycles
(what it makes is freed by reference counting as usual). So the collector is paused
for the page and resumed after. Pauses from several threads nest: the collector
comes back when the last one ends, and only if it was enabled when the first began.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator


class _Pauses:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._resume = False

    @contextlib.contextmanager
    def paused(self) -> Iterator[None]:
        with self._lock:
            if self._active == 0:
                self._resume = gc.isenabled()
                gc.disable()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0 and self._resume:
                    gc.enable()


collection_paused = _Pauses().paused
"""A context manager: the cyclic garbage collector is off inside it (see module docstring)."""
