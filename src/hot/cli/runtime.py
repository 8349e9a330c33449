"""``tune_runtime``: the interpreter settings of a process that a ``hot`` command owns.

Library code (``hot.application``, ``hot.infra``, ``hot_follow``) leaves the
interpreter as it found it, since other teams' processes embed it. The entry points
that own their process (``hot serve``, ``hot relay``, and the benchmarks that
measure them) call this once, when start-up is over.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

from hot.tuning import GC_THRESHOLDS


def tune_runtime() -> None:
    """Settings of the interpreter for a long-running ``hot`` process, once it is built."""
    gc.collect()  # start-up's garbage goes now, not in the first request's collection
    gc.freeze()  # what start-up made stays for good: no collection walks it again
    gc.set_threshold(*GC_THRESHOLDS)  # see GC_THRESHOLDS
    # Python's switch interval stays 5 ms: 1 ms measured no better for serving (the event
    # loop and the group committer then hand the GIL back and forth more often).


@contextlib.contextmanager
def tuned_runtime() -> Iterator[None]:
    """``tune_runtime`` for the length of a block, then the interpreter as it was: for
    benchmarks, which measure in one process both as a ``hot`` command runs and untouched."""
    thresholds = gc.get_threshold()
    tune_runtime()
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
