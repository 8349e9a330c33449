"""Where a follower reads the log from: ``hot_read``, the HTTP API, or HoT's own tables.

Each answers the same questions: the events after a position (a page, in log order,
of some names), the position of the first event after a position, the log's head,
and up to where it holds every event (a copy such as ``hot_read`` lags the log). Errors
that retrying may cure become ``SourceUnavailableError``.

An app reads ``hot_read`` (``SqlReadLog``) or the API (``HttpLog``); HoT's own
processes, which have its application already, read its tables (``hot.infra.postgres_log``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from hot_follow.events import RecordedEvent


class EventSource(Protocol):
    """A readable copy of the log. ``names`` empty means every public event name."""

    def read(
        self,
        after: int,
        limit: int,
        names: Sequence[str] = (),
        upto: int | None = None,
        *,
        personal: bool = True,
    ) -> Sequence[RecordedEvent]:
        """Up to ``limit`` events with positions in (``after``, ``upto``], oldest first.

        Personal fields masked (``masked_event``) unless ``personal``; with it, shown as
        far as the source may show them.
        """
        ...

    def first_after(self, after: int, names: Sequence[str] = ()) -> int | None:
        """The position of the first event after ``after``, or None if there is none yet."""
        ...

    def head(self, names: Sequence[str] = ()) -> int | None:
        """The position of the newest event (0 if none; None if this source cannot tell)."""
        ...

    def complete_upto(self) -> int | None:
        """The position up to which this source holds every event of the log, and after
        which it holds none yet; None when it is the log itself (it holds every event
        committed). Asked before ``first_after`` to know what that answer covers."""
        ...

    def close(self) -> None: ...
