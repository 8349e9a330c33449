"""States of an older ``class_version``, brought to the current one as ``eventsourcing`` does.

The library's mapper decodes a state with its JSON transcoder (dates, UUIDs and times
as values), then calls the event class's ``upcast_v1_v2``, ``upcast_v2_v3``, ... static
methods on it, in turn, up to the class's version. ``Upcaster`` does the same, then
takes from the state what a ``RecordedEvent`` shows. Sealed personal fields stay
sealed meanwhile, as with ``PersonalDataMapper``, which opens them after upcasting.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

import msgspec

from hot.application.catalog import EventType
from hot.application.personal import BLOB
from hot.application.stored_states import Sealed, UnreadableEventError
from hot.application.transcodings import states_transcoder

if TYPE_CHECKING:
    from hot.application.decoding import Row

# An event's id, time, sealed blob (or None) and payload, as its current version shows them.
UpcastedState = tuple[UUID, datetime, Sealed | None, dict[str, Any]]
Older = Callable[["Row"], UpcastedState]


class Upcaster:
    """Reads states with the transcodings the application stores them with."""

    def __init__(self) -> None:
        self._transcoder = states_transcoder()

    def decoder(self, event_type: EventType) -> Older:
        """What a row of ``event_type`` at an older version shows once upcast;
        ``UnreadableEventError`` for any state that is not of an older version."""
        event_class, version = event_type.event_class, event_type.version

        def older(row: Row) -> UpcastedState:
            state = self._state(row)
            stored_version = state.pop("class_version", 1)
            if not isinstance(stored_version, int) or stored_version >= version:
                raise UnreadableEventError(
                    row, f"not a state that version {stored_version} of the event stores"
                )
            state["originator_id"], state["originator_version"] = row.subject, row.sequence
            for step in range(stored_version, version):
                upcast = getattr(event_class, f"upcast_v{step}_v{step + 1}", None)
                if upcast is None:
                    raise UnreadableEventError(row, f"no upcast_v{step}_v{step + 1} to read it")
                upcast(state)
            blob = state.pop(BLOB, None)
            try:
                payload = event_type.payload_of(cast(Any, SimpleNamespace(**state)))
                sealed = None if blob is None else msgspec.convert(blob, Sealed)
                return state["event_id"], state["timestamp"], sealed, payload
            except (AttributeError, KeyError, msgspec.ValidationError) as error:
                raise UnreadableEventError(row, f"upcast, it lacks {error}") from None

        return older

    def _state(self, row: Row) -> dict[str, Any]:
        try:
            state = self._transcoder.decode(row.state)
        except (ValueError, TypeError) as error:  # not JSON, or a value of no transcoding
            raise UnreadableEventError(row, f"not a stored state ({error})") from None
        if not isinstance(state, dict):
            raise UnreadableEventError(row, "not a stored state (no JSON object)")
        return state
