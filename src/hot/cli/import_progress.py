"""How far ``hot import`` has got: the line to resume from, kept in a file, and a status
line on stderr for a person watching.

Lines finish out of order (several humans are posted at once), so the progress kept is
``next_line``: every line before it is done (recorded, already recorded or refused). A
crash loses at most ``SAVE_EVERY`` seconds of it, and what it loses is posted again:
the API records an envelope once however often it is posted.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import click

SAVE_EVERY = 0.5  # seconds between writes of the progress file
DRAW_EVERY = 0.1  # seconds between redraws of the status line


class ProgressMark:
    """Every line before ``next_line`` is done; saved in ``path`` as ``{"next_line": n}``."""

    def __init__(self, path: Path, next_line: int) -> None:
        self.path = path
        self.next_line = next_line
        self._done: set[int] = set()
        self._saved_at = 0.0

    @staticmethod
    def read(path: Path) -> int | None:
        """The line a previous run said to resume from; None without a progress file."""
        try:
            saved = json.loads(path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            message = f"cannot read {path} ({error}); --restart ignores it"
            raise click.ClickException(message) from None
        line = saved.get("next_line") if isinstance(saved, dict) else None
        if not isinstance(line, int) or line < 1:
            raise click.ClickException(f"{path} names no line to resume from; --restart ignores it")
        return line

    def done(self, number: int) -> None:
        """Line ``number`` is done; the mark moves past every line done without a gap."""
        self._done.add(number)
        while self.next_line in self._done:
            self._done.remove(self.next_line)
            self.next_line += 1
        if time.monotonic() - self._saved_at >= SAVE_EVERY:
            self.save()

    def save(self) -> None:
        """Write the mark (whole or not at all: a crash mid-write leaves the old one)."""
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(json.dumps({"next_line": self.next_line}) + "\n")
        os.replace(partial, self.path)
        self._saved_at = time.monotonic()

    def keep(self) -> None:
        """The import stops unfinished: save where to resume, if past the first line."""
        if self.next_line > 1:
            self.save()

    def finish(self) -> None:
        """Every line is done: nothing to resume, the file goes."""
        self.path.unlink(missing_ok=True)


class StatusLine:
    """``lines done/total, rate`` redrawn in place on stderr when ``shown``; messages
    printed above it."""

    def __init__(self, done: int, total: int, *, shown: bool) -> None:
        self.done, self.total, self.shown = done, total, shown
        self._first = done
        self._started = self._drawn_at = time.monotonic()

    def note(self, message: str) -> None:
        """A message on a line of its own, the status line drawn again under it."""
        if self.shown:
            click.echo("\r\x1b[K", err=True, nl=False)
        click.echo(message, err=True)
        self._draw()

    def advance(self) -> None:
        self.done += 1
        if time.monotonic() - self._drawn_at >= DRAW_EVERY:
            self._draw()

    def close(self) -> None:
        """The last count, and the cursor on a line of its own."""
        if self.shown:
            self._draw()
            click.echo(err=True)

    def _draw(self) -> None:
        if not self.shown:
            return
        elapsed = max(time.monotonic() - self._started, 1e-6)
        rate = (self.done - self._first) / elapsed
        text = f"{self.done}/{self.total} lines, {rate:.0f} lines/s"
        click.echo(f"\r\x1b[K{text}", err=True, nl=False)
        self._drawn_at = time.monotonic()
