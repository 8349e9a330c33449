"""From stored rows to ``RecordedEvent``s, fast: the catch-up path's hot loop.

``HumansApplication.recorded_event`` decodes through ``eventsourcing``'s mapper (a
JSON decoder with an object hook, a domain event object, then its payload). That is
the definition; this module takes a shorter road to the identical value for states
it fully understands (plain JSON, the current class version, only the transcoded
types of dates and UUIDs) and hands everything else (upcasts, ciphers, new types)
to the application. Tests hold the two to the same result for every event name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec
from eventsourcing.persistence import JSONTranscoder, Notification

from hot.application import CATALOG, HumansApplication, RecordedEvent

Row = tuple[int, UUID, int, str, bytes]  # notification_id, originator_id, version, topic, state

_decode_json = msgspec.json.Decoder().decode


class EventDecoder:
    """Decodes rows of the events table of ``app`` into the events readers see."""

    def __init__(self, app: HumansApplication) -> None:
        self.app = app
        mapper = app.mapper
        self.fast = (
            mapper.cipher is None
            and mapper.compressor is None
            and type(mapper.transcoder) is JSONTranscoder
        )
        self._types = {t.name: (t.version, t.payload_fields) for t in CATALOG}

    def decode(self, row: Row) -> RecordedEvent:
        """The event stored in ``row``, exactly as ``app.recorded_event`` would give it."""
        if self.fast:
            event = self._decode_plain(row)
            if event is not None:
                return event
        position, originator_id, originator_version, topic, state = row
        notification = Notification(
            id=position,
            originator_id=originator_id,
            originator_version=originator_version,
            topic=topic,
            state=bytes(state),
        )
        return self.app.recorded_event(notification)

    def _decode_plain(self, row: Row) -> RecordedEvent | None:
        """The event, or None when the state needs the application's full decoding."""
        position, originator_id, originator_version, topic, state = row
        version, fields = self._types[topic]
        try:
            data: dict[str, Any] = _decode_json(state)
            if data.get("class_version", 1) != version:
                return None  # an older version: the application upcasts it
            timestamp = _typed(data["timestamp"], "datetime_iso")
            event_id = _typed(data["event_id"], "uuid_hex")
            payload = {field: _plain(data[field]) for field in fields}
        except (_NotPlainError, KeyError, TypeError, msgspec.DecodeError):
            return None
        return RecordedEvent(
            id=UUID(event_id),
            name=topic,
            version=version,
            subject=originator_id,
            sequence=originator_version,
            position=position,
            time=datetime.fromisoformat(timestamp),
            payload=payload,
        )


class _NotPlainError(Exception):
    """A value this decoder does not handle; the application's decoder will."""


def _typed(value: Any, type_name: str) -> str:
    if type(value) is dict and value.get("_type_") == type_name:
        return str(value["_data_"])
    raise _NotPlainError


def _plain(value: Any) -> Any:
    """A payload value as ``EventType.payload_of`` renders it: dates and UUIDs as strings."""
    if type(value) is dict:
        kind = value.get("_type_")
        if kind == "date_iso":
            return str(value["_data_"])
        if kind == "uuid_hex":
            return str(UUID(value["_data_"]))
        raise _NotPlainError
    if type(value) is list:
        raise _NotPlainError  # containers may hold transcoded values: leave them to the app
    return value
