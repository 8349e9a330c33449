"""Rows of teams' event types, decoded as every reader sees them (``team_storage``'s form).

One msgspec schema reads the state of every team type, whatever its name: the id, the
time, the version posted, the payload's JSON text, the names of its personal fields and
the sealed blob. The payload is shown as posted, its personal fields opened, or masked
for a reader without the ``personal`` scope (from the stored names alone: no key is
looked up and nothing is decrypted for that reader).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from hot.application.sealed_fields import Show, Showing
from hot.application.stored_states import (
    DatetimeISO,
    Sealed,
    SealedUnopened,
    UnreadableEventError,
    UUIDHex,
)
from hot.application.team_storage import BLOB
from hot.application.views import RecordedEvent
from hot_follow.representation import MASKED

if TYPE_CHECKING:
    from hot.application.decoding import Row

RowDecoder = Callable[["Row"], RecordedEvent]
# How a team row's payload is shown: (sealed blob, row, payload, personal field names).
TeamShow = Callable[[Any, "Row", dict[str, Any], list[str]], None]
_payload = msgspec.json.Decoder(dict[str, Any]).decode


class _TeamState(msgspec.Struct, forbid_unknown_fields=True, kw_only=True, gc=False):
    timestamp: DatetimeISO
    event_id: UUIDHex
    version: int
    payload: str
    personal_fields: list[str]


class _Opened(_TeamState, kw_only=True, rename={"sealed_blob": BLOB}):
    sealed_blob: Sealed | None = None


class _Unopened(_TeamState, kw_only=True, rename={"sealed_blob": BLOB}):
    sealed_blob: SealedUnopened | None = None


def team_decoders(showing: Showing) -> dict[tuple[bool, bool], RowDecoder]:
    """The decoder of team rows for each way ``EventDecoder`` reads: by (personal, keys
    read beside the rows)."""
    return {
        (False, False): _decoder(_Unopened, _masked),
        (True, False): _decoder(_Opened, _opening(showing.opened())),
        (True, True): _decoder(_Opened, _opening(showing.opened_with_row_keys())),
    }


def _opening(show: Show) -> TeamShow:
    return lambda blob, row, payload, personal: show(blob, row, payload)


def _decoder(state: type[_TeamState], show: TeamShow) -> RowDecoder:
    decode = msgspec.json.Decoder(state).decode

    def event_of(row: Row) -> RecordedEvent:
        try:
            stored: Any = decode(row.state)
            payload = _payload(stored.payload)
        except (msgspec.ValidationError, msgspec.DecodeError) as error:
            raise UnreadableEventError(row, f"not a team event's state ({error})") from None
        if stored.personal_fields:
            show(stored.sealed_blob, row, payload, stored.personal_fields)
        return RecordedEvent(
            stored.event_id._data_,
            row.name,
            stored.version,
            row.subject,
            row.sequence,
            row.position,
            stored.timestamp._data_,
            payload,
        )

    return event_of


def _masked(blob: Any, row: Row, payload: dict[str, Any], personal: list[str]) -> None:
    sealed = blob.fields if blob is not None else ()
    for field in personal:
        if field in sealed or payload.get(field) is not None:
            payload[field] = MASKED


def recorded_team_event(event: Any, position: int, *, personal: bool) -> RecordedEvent:
    """A ``Human.TeamEventRecorded`` in hand (just committed, at ``position``) as a reader
    sees it, its personal fields masked unless ``personal``: as its row decodes."""
    payload = dict(event.payload)
    if not personal:
        for field in event.personal_fields:
            if payload.get(field) is not None:
                payload[field] = MASKED
    return RecordedEvent(
        event.event_id,
        event.name,
        event.version,
        event.originator_id,
        event.originator_version,
        position,
        event.timestamp,
        payload,
    )
