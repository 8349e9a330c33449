"""``LeadingLoop``: a long-running part that works while it holds a lock, and retries.

The relay and the SQL read projector both run so: in a thread of their own (or the
caller's), one turn after another until ``stop()``; a turn that fails on a server
(PostgreSQL or Redis gone) gives up the lock, lets the part recover, reports
``retrying`` with the error and waits ``backoff`` seconds; the status is kept on a
``StatusBoard`` that any thread reads without I/O.
"""

from __future__ import annotations

import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Generic, Self

from hot.infra.relay.leader import Leadership
from hot.infra.relay.status import S, StatusBoard


class LeadingLoop(ABC, Generic[S]):
    """Turns of ``_turn`` until stopped; subclasses set ``leadership`` and ``backoff``."""

    thread_name = "hot-loop"
    log_name = "loop"  # how its log lines begin
    leadership: Leadership
    backoff: float

    def __init__(self, initial: S, observe: Callable[[S], None] = lambda status: None) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._board = StatusBoard(initial, observe)  # ``observe`` sees each status: metrics
        self._report = self._board.update

    def run(self) -> None:
        """Work until ``stop()`` is called; the step in flight is finished first."""
        try:
            while not self._stopping.is_set():
                try:
                    self._turn()
                except self._retried() as error:
                    name, kind = self.log_name, type(error).__name__
                    logging.getLogger(type(self).__module__).warning(
                        "%s: %s: %s; retrying", name, kind, error
                    )
                    self.leadership.close()
                    self._recover(error)
                    self._report(state="retrying", error=f"{type(error).__name__}: {error}")
                    self._stopping.wait(self.backoff)
        finally:
            self.leadership.close()
            self._close()
            self._report(state="stopped")

    def start(self) -> Self:
        """Run in a background thread; ``stop()`` ends it."""
        self._stopping.clear()
        self._thread = threading.Thread(target=self.run, name=self.thread_name, daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        """Ask it to stop; wait for its thread, if ``start()`` made one."""
        self._stopping.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def status(self) -> S:
        """Its state as it last saw it; no I/O, safe from any thread."""
        return self._board.current()

    @abstractmethod
    def _turn(self) -> None:
        """One turn: lead while the lock is held, or stand by a while."""

    @abstractmethod
    def _retried(self) -> tuple[type[BaseException], ...]:
        """The errors after which a turn is tried again (a server gone, say)."""

    def _recover(self, error: BaseException) -> None:
        """Make ready for the next turn after ``error`` (the lock is given up already)."""

    def _close(self) -> None:
        """Give back what the part holds besides its lock, once it stops."""
