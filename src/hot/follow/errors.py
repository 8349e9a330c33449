"""The errors of the follower library.

    FollowerError                   every error raised on purpose by ``hot.follow``
    ├── UnknownEventNameError       a name that is not in the event catalog (bad input)
    ├── SourceUnavailableError      the log cannot be read right now (followers retry)
    ├── AccessDeniedError           the API refused the token (retrying cannot help)
    └── ProjectionConflictError     another runner moved the projection's position first

A follower retries on ``SourceUnavailableError`` and on Redis errors by itself; the
others reach the caller.
"""

from __future__ import annotations

from collections.abc import Iterable


class FollowerError(Exception):
    """Base class of the errors ``hot.follow`` raises on purpose."""


class UnknownEventNameError(FollowerError, ValueError):
    """Event names were asked for that the catalog does not know."""

    def __init__(self, names: Iterable[str]) -> None:
        self.names = tuple(names)
        super().__init__(f"Unknown event name(s): {', '.join(self.names)}.")


class SourceUnavailableError(FollowerError):
    """The log (PostgreSQL or the HTTP API) could not be read; worth retrying."""


class AccessDeniedError(FollowerError):
    """The HTTP API refused the token (401 or 403): retrying will not help."""


class ProjectionConflictError(FollowerError):
    """The stored position was not the one this runner expected: another runner wrote it."""

    def __init__(self, name: str, expected: int, found: int | None) -> None:
        self.name, self.expected, self.found = name, expected, found
        super().__init__(
            f"Projection {name!r} is at position {found}, not {expected}: "
            "another runner moved it (or it was rebuilt)."
        )
