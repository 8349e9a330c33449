"""Errors raised when a team's event schema, upcast or payload is refused.

    EventTypeError (``hot.domain.errors``)
     ├── InvalidSchemaError   a schema or upcast cannot be registered (one path, one reason)
     └── InvalidPayloadError  a payload breaks its schema or shape (every failing
                              ``PayloadError``: a path and a message)

They are the domain's errors, so the API's one error map answers them (422).
Paths are dotted: ``schema.properties.ecode.type``, ``upcast.rename``; a payload's
paths start at the payload itself (``issues.0``; ``""`` is the payload as a whole).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from hot.domain.errors import InvalidPayloadError, InvalidSchemaError

__all__ = ["InvalidPayloadError", "InvalidSchemaError", "PayloadError", "dotted"]


class PayloadError(NamedTuple):
    """One place where a payload fails: its dotted path and what is wrong there."""

    path: str
    message: str


def dotted(segments: Sequence[str | int]) -> str:
    """A path as HoT shows it: segments joined by dots, array indexes as numbers."""
    return ".".join(str(segment) for segment in segments)
