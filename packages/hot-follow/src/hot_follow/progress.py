"""A one-line progress report for catch-ups and rebuilds: position / head, percent, events/s.

On a terminal it redraws one line (``\\r``) a few times a second and ends it with a
summary; elsewhere it writes a line a second. Callers show it on a TTY, or when
asked (``--progress``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class Progress:
    """Reports the progress of ``label`` towards log position ``head`` (None: unknown)."""

    def __init__(
        self,
        label: str,
        head: int | None,
        *,
        stream: TextIO | None = None,
        interval: float = 0.2,
    ) -> None:
        self.label = label
        self.head = head
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        # Off a terminal each report is a line of its own, so fewer of them.
        self.interval = interval if self.tty else max(interval, 1.0)
        self.started = time.monotonic()
        self._drawn = 0.0
        self.position = 0
        self.handled = 0

    def __call__(self, position: int, handled: int) -> None:
        """Record that ``handled`` events in all have been applied, up to ``position``."""
        self.position, self.handled = position, handled
        now = time.monotonic()
        if now - self._drawn >= self.interval:
            self._drawn = now
            self._draw(end="")

    def finish(self) -> None:
        """Draw the final line, and end it."""
        self._draw(end="\n")

    def line(self) -> str:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.handled / elapsed
        where = f"{self.position:,}"
        if self.head:
            where += f" / {self.head:,} ({min(100.0, 100 * self.position / self.head):.1f}%)"
        return f"{self.label}: {where}  {self.handled:,} events  {rate:,.0f} events/s"

    def _draw(self, end: str) -> None:
        if self.tty:
            self.stream.write(f"\r\x1b[K{self.line()}{end}")
        else:
            self.stream.write(f"{self.line()}\n")
        self.stream.flush()


def wanted(flag: bool | None, stream: TextIO | None = None) -> bool:
    """Whether to show progress: as asked, else only when ``stream`` is a terminal."""
    if flag is not None:
        return flag
    return (stream or sys.stderr).isatty()
