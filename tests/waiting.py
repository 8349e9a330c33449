"""``wait_until``: poll a condition of real servers or processes until it holds, or fail."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> None:
    """Return once ``predicate()`` holds; after ``timeout`` s, fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"Not within {timeout} s: {what}")
        time.sleep(0.02)
