"""The lines of a JSON Lines file of envelopes, as ``hot import`` posts them.

Each line is read once, in file order, and is either an envelope to post (with the
human it is about, so that lines about one human keep their order) or refused here,
without posting: a line that is not JSON, or not an envelope object. Blank lines
are passed over. Everything else about an envelope is the API's to check.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID

from hot.application.envelopes import REGISTRATION, registered_human_id


@dataclass(frozen=True)
class ImportLine:
    """Line ``number`` (from 1): an ``envelope`` to post about ``human``, or a ``refusal``
    found before posting (neither: a blank line)."""

    number: int
    envelope: dict[str, Any] | None = None
    human: str = ""
    refusal: str | None = None

    @property
    def name(self) -> str:
        """The event's name as the line gives it, for messages."""
        name = self.envelope.get("name") if self.envelope else None
        return name if isinstance(name, str) else "envelope"


def count_lines(path: Path) -> int:
    """How many lines the file has."""
    with path.open("rb") as file:
        return sum(1 for _ in file)


def read_lines(path: Path, start: int = 1) -> Iterator[ImportLine]:
    """The file's lines from line ``start`` on."""
    with path.open("rb") as file:
        for number, raw in enumerate(file, start=1):
            if number >= start:
                yield parsed(number, raw)


def parsed(number: int, raw: bytes) -> ImportLine:
    """One line, read: an envelope, a refusal, or nothing (blank)."""
    if not raw.strip():
        return ImportLine(number)
    try:
        envelope = json.loads(raw.rstrip(b"\r\n"))
    except UnicodeDecodeError:
        return ImportLine(number, refusal="not UTF-8 text")
    except json.JSONDecodeError as error:
        return ImportLine(number, refusal=f"not JSON: {error}")
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), dict):
        return ImportLine(
            number, refusal='not an envelope: {"id", "name", "version", "payload": {...}}'
        )
    return ImportLine(number, envelope, human_of(envelope))


def human_of(envelope: dict[str, Any]) -> str:
    """Which human the envelope is about: ``payload.human_id``, or for a registration
    without one, the id the API derives from the envelope's id."""
    human_id = envelope["payload"].get("human_id")
    if human_id is None and envelope.get("name") == REGISTRATION:
        envelope_id = _uuid(envelope.get("id"))
        return str(registered_human_id(envelope_id)) if envelope_id else ""
    as_uuid = _uuid(human_id)  # one human however its id is spelt (case, braces)
    return str(as_uuid) if as_uuid else str(human_id)


def _uuid(value: Any) -> UUID | None:
    try:
        return UUID(str(value))
    except ValueError:
        return None  # the API refuses it: any partition will do
