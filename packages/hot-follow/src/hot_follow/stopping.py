"""``StopFlag``: a stop request that is safe to make from a signal handler.

``threading.Event.set()`` takes a lock; a signal handler runs in the main thread, and
if that thread was inside ``Event.wait()`` on the same event, holding that lock, the
handler waits for it forever. Setting a plain attribute takes no lock, so waiting
here is sleeping in short steps and looking at the flag: a stop is seen within
``STEP`` seconds.
"""

from __future__ import annotations

import time

STEP = 0.05


class StopFlag:
    """Set once by ``set()`` (from any thread, or a signal handler); never cleared."""

    def __init__(self) -> None:
        self._set = False

    def set(self) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, less if the flag is set; whether it is set."""
        deadline = time.monotonic() + timeout
        while not self._set:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            time.sleep(min(STEP, remaining))
        return self._set
