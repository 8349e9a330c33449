"""Who writes and who reads in a compatibility check, and what a breaking change is.

BACKWARD asks whether the new version reads old events; FORWARD whether the previous
version reads new ones. The same comparison answers both, with the sides swapped, and
its reasons name the sides (``old events``, ``the new version``) so each reads right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass


@dataclass(frozen=True)
class BreakingChange:
    """A new version breaks the type's compatibility mode at ``path``, for ``reason``.

    ``path`` is dotted from the payload: ``address.city``; ``issues[]`` is every item of
    ``issues``, ``address.*`` every field ``address`` does not declare, ``""`` the payload.
    """

    path: str
    reason: str


@dataclass(frozen=True)
class Sides:
    """Who writes and who reads, as reasons name them, and which is the previous version.

    ``stricter`` is the word for a reader stricter than the writer: the new version has
    ``narrowed`` what old events hold, or ``widened`` what the previous version reads.
    """

    writer: str
    reader: str
    writer_is_previous: bool
    stricter: str

    def previous_and_new(self, writer_value: object, reader_value: object) -> tuple[str, str]:
        """The two sides' values as JSON text, the previous version's first (``none``: absent)."""
        written, read = (_shown(writer_value), _shown(reader_value))
        return (written, read) if self.writer_is_previous else (read, written)


READ_BY_NEW = Sides("old events", "the new version", writer_is_previous=True, stricter="narrowed")
READ_BY_PREVIOUS = Sides(
    "new events", "the previous version", writer_is_previous=False, stricter="widened"
)


def same(first: object, second: object) -> bool:
    """Whether two JSON values are equal, as JSON text with sorted keys."""
    return as_json(first) == as_json(second)


def as_json(value: object) -> str:
    """A JSON value as reasons show it: compact JSON text with sorted keys."""
    return json.dumps(value, sort_keys=True)


def _shown(value: object) -> str:
    return "none" if value is None else as_json(value)
