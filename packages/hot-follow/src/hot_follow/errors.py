"""The errors of the follower library.

    FollowerError                   every error raised on purpose by ``hot_follow``
    ├── UnknownEventNameError       a name that is not in the event catalog (bad input)
    ├── SourceUnavailableError      the log cannot be read right now (followers retry)
    ├── AccessDeniedError           the API refused the token, or PostgreSQL the role
    ├── PersonalFieldsRefusedError  personal fields asked of ``hot_read``, which has none
    ├── ProjectionConflictError     another runner moved the projection's position first
    ├── HandlerFailedError          a handler failed on one event: the projection is stuck
    ├── RebuildFailedError          a handler failed during a rebuild: nothing was changed
    └── SkipRefusedError            a skip that cannot be recorded (applied, blank reason)

A follower retries on ``SourceUnavailableError`` and on Redis errors by itself; a
runner retries on ``ProjectionConflictError`` and, after a backoff, on
``HandlerFailedError`` (it records and logs where it is stuck first); the others
reach the caller.
"""

from __future__ import annotations

from collections.abc import Iterable


class FollowerError(Exception):
    """Base class of the errors ``hot_follow`` raises on purpose."""


class UnknownEventNameError(FollowerError, ValueError):
    """Event names were asked for that the catalog does not know."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        super().__init__(f"Unknown event name(s): {', '.join(self.names)}.")


class SourceUnavailableError(FollowerError):
    """The log (PostgreSQL or the HTTP API) could not be read; worth retrying."""


class AccessDeniedError(FollowerError):
    """The HTTP API refused the token (401 or 403), or PostgreSQL refused the role what it
    reads: retrying will not help."""


class PersonalFieldsRefusedError(FollowerError, ValueError):
    """Personal fields were asked of a source that holds none (``hot_read``): following
    with them goes over the API, with a token that has the ``personal`` scope."""


class ProjectionConflictError(FollowerError):
    """The stored position was not the one this runner expected: another runner wrote it."""

    def __init__(self, name: str, expected: int, found: int | None) -> None:
        self.name, self.expected, self.found = name, expected, found
        super().__init__(
            f"Projection {name!r} is at position {found}, not {expected}: "
            "another runner moved it (or it was rebuilt)."
        )


class HandlerFailedError(FollowerError):
    """A handler failed on the event at ``position``: the projection is stuck there until
    the handler stops failing or the position is skipped."""

    def __init__(self, name: str, position: int, event_name: str, error: str) -> None:
        self.name, self.position, self.event_name, self.error = name, position, event_name, error
        super().__init__(
            f"Projection {name!r} cannot handle the event at position {position} "
            f"({event_name}): {error}"
        )


class RebuildFailedError(FollowerError):
    """A handler failed on an event of the page ``first``..``last`` during a rebuild, whose
    one transaction was rolled back: the projection keeps its old state."""

    def __init__(self, name: str, first: int, last: int, error: str) -> None:
        self.name, self.first, self.last, self.error = name, first, last, error
        super().__init__(
            f"Rebuilding {name!r} failed on an event at positions {first} to {last}, "
            f"so nothing changed: {error}"
        )


class SkipRefusedError(FollowerError, ValueError):
    """A skip that was not recorded: its position is already applied or already skipped,
    or it does not say who skips it and why."""


ONE_LINE = 500  # characters of an error kept in a log line or a stuck record


def one_line(error: BaseException) -> str:
    """``Type: message`` on one line (database errors span several), for logs and records."""
    text = " ".join(str(error).split())
    line = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return line if len(line) <= ONE_LINE else line[: ONE_LINE - 1] + "…"
