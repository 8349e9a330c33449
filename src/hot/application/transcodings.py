"""How the values of the human domain are stored as JSON by ``eventsourcing``."""

from __future__ import annotations

from datetime import date
from typing import Any

from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    Transcoding,
    UUIDAsHex,
)

from hot.domain import Membership


class DateAsISO(Transcoding):
    type = date
    name = "date_iso"

    def encode(self, obj: date) -> str:
        return obj.isoformat()

    def decode(self, data: str) -> date:
        return date.fromisoformat(data)


class SetAsSortedList(Transcoding):
    """A set is stored sorted, so that equal sets store as equal bytes."""

    type = set
    name = "set"

    def encode(self, obj: set[Any]) -> list[Any]:
        return sorted(obj)

    def decode(self, data: list[Any]) -> set[Any]:
        return set(data)


class MembershipAsDict(Transcoding):
    type = Membership
    name = "membership"

    def encode(self, obj: Membership) -> dict[str, Any]:
        return {"joined_on": obj.joined_on, "role": obj.role, "left_on": obj.left_on}

    def decode(self, data: dict[str, Any]) -> Membership:
        return Membership(**data)


TRANSCODINGS: tuple[Transcoding, ...] = (DateAsISO(), SetAsSortedList(), MembershipAsDict())


def states_transcoder() -> JSONTranscoder:
    """The JSON transcoder of the application's stored states: the library's own
    transcodings (``Application.register_transcodings``), then HoT's."""
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO(), *TRANSCODINGS):
        transcoder.register(transcoding)
    return transcoder
