"""Errors raised when a team's event schema, upcast or payload is refused.

    ValueError
     ├── InvalidSchemaError   a schema or upcast cannot be registered (one path, one reason)
     └── InvalidPayloadError  a payload breaks its schema or shape (every failing path)

Both subclass ``ValueError``: each is a value the caller sent, refused as it stands.
Paths are dotted: ``schema.properties.ecode.type``, ``upcast.rename``; a payload's
paths start at the payload itself (``issues.0``; ``""`` is the payload as a whole).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class InvalidSchemaError(ValueError):
    """A payload schema or an upcast is refused: ``path`` says where, ``reason`` why."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class PayloadError:
    """One place where a payload fails: its dotted path and what is wrong there."""

    path: str
    message: str


class InvalidPayloadError(ValueError):
    """A payload is refused; ``errors`` lists every failing path found."""

    def __init__(self, errors: Sequence[PayloadError]) -> None:
        self.errors = tuple(errors)
        shown = "; ".join(f"{e.path or '(payload)'}: {e.message}" for e in self.errors[:3])
        more = f" (and {len(self.errors) - 3} more)" if len(self.errors) > 3 else ""
        super().__init__(f"invalid payload: {shown}{more}")


def dotted(segments: Sequence[str | int]) -> str:
    """A path as HoT shows it: segments joined by dots, array indexes as numbers."""
    return ".".join(str(segment) for segment in segments)
