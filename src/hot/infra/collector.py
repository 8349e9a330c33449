"""``collection_paused``: no cyclic garbage collection while a page of events is decoded.

Decoding a page makes thousands of small container objects (payloads, events) that
live until the page is consumed. Each few hundred of them trigger a collection,
which walks every young object, and now and then the whole heap: about half of the
decoding time of a catch-up, for nothing, since decoding makes no reference cycles
(what it makes is freed by reference counting as usual). So the collector is paused
for the page and resumed after. Pauses from several threads nest: the collector
comes back when the last one ends, and only if it was enabled when the first began.

Resuming right after a page still costs a collection per page, and a useless one:
the page just decoded is alive (its reader has not seen it yet), so the collection
walks it all and frees nothing (about a millisecond a page, a sixth of a catch-up).
A pause may therefore ``hold`` the collector off a little longer, into the next
page's pause: it then resumes once a ``hold`` (a second, say) rather than once a
page, and whatever is young and alive at that moment is walked once. A timer makes
sure it resumes within ``hold`` even if no other page comes.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import time
from collections.abc import Iterator


class _Pauses:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._resume = False
        self._off_since: float | None = None  # the collector is off by our doing since then
        self._hold_until = 0.0
        self._timer: threading.Timer | None = None

    @contextlib.contextmanager
    def paused(self, hold: float = 0.0) -> Iterator[None]:
        with self._lock:
            if self._off_since is None:
                self._resume = gc.isenabled()
                gc.disable()
                self._off_since = time.monotonic()
            self._active += 1
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
                if self._active == 0:
                    self._held(hold)

    def _held(self, hold: float) -> None:
        """The last pause ended (lock held): resume now, or hold on until a timer fires."""
        assert self._off_since is not None
        now = time.monotonic()
        if now - self._off_since >= hold:
            self._resume_now()
            return
        self._hold_until = max(self._hold_until, self._off_since + hold)
        if self._timer is None:
            self._timer = threading.Timer(self._hold_until - now, self._release)
            self._timer.daemon = True
            self._timer.start()

    def _release(self) -> None:
        """The hold's timer: resume unless a pause is under way (its end decides)."""
        with self._lock:
            self._timer = None
            if self._active == 0 and self._off_since is not None:
                self._resume_now()

    def _resume_now(self) -> None:
        """End the collector's time off (lock held), and any timer for it."""
        self._off_since = None
        self._hold_until = 0.0
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._resume:
            gc.enable()


collection_paused = _Pauses().paused
"""A context manager: the cyclic garbage collector is off inside it (see module docstring);
``collection_paused(hold=s)`` may keep it off after, for the next pause, up to ``s`` seconds
after it went off."""
