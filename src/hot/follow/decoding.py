"""From stored rows to ``RecordedEvent``s, fast: the catch-up path's hot loop.

``HumansApplication.recorded_event`` decodes through ``eventsourcing``'s mapper (a
JSON decoder with an object hook, a domain event object, then its payload). That is
the definition; this module takes a shorter road to the identical value for states
it fully understands (plain JSON, the current class version, only the envelope and
payload keys, only the transcoded types of dates and UUIDs) and hands everything
else (upcasts, new types, keys it does not know) to the application. It stays off
for any mapper but ``eventsourcing``'s own (a subclass may do anything on the way
back: decrypt fields, keep caches), unless that mapper declares
``plain_states_decode_unchanged = True``: its states without extra keys decode as the
base mapper decodes them. Tests hold the two roads to the same result for every name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID, SafeUUID

import msgspec
from eventsourcing.persistence import JSONTranscoder, Mapper, Notification

from hot.application import CATALOG, HumansApplication, RecordedEvent

Row = tuple[int, UUID, int, str, bytes]  # notification_id, originator_id, version, topic, state

_decode_json = msgspec.json.Decoder().decode
_ENVELOPE_KEYS = frozenset({"timestamp", "originator_topic", "event_id", "class_version"})


class EventDecoder:
    """Decodes rows of the events table of ``app`` into the events readers see."""

    def __init__(self, app: HumansApplication) -> None:
        self.app = app
        mapper = app.mapper
        plain_mapper = type(mapper) is Mapper or getattr(
            mapper, "plain_states_decode_unchanged", False
        )
        self.fast = bool(
            plain_mapper
            and mapper.cipher is None
            and mapper.compressor is None
            and type(mapper.transcoder) is JSONTranscoder
        )
        self._types = {
            t.name: (t.version, t.payload_fields, _ENVELOPE_KEYS | set(t.payload_fields))
            for t in CATALOG
        }

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
        version, fields, known = self._types[topic]
        try:
            data: dict[str, Any] = _decode_json(state)
            if data.get("class_version", 1) != version:
                return None  # an older version: the application upcasts it
            if not known.issuperset(data):
                return None  # something more than a plain event: the application knows
            time = datetime.fromisoformat(_typed(data["timestamp"], "datetime_iso"))
            event_id = _uuid(_typed(data["event_id"], "uuid_hex"))
            payload = {field: _plain(data[field]) for field in fields}
        except (_NotPlainError, KeyError, TypeError, ValueError, msgspec.DecodeError):
            return None
        return _recorded_event(
            {
                "id": event_id,
                "name": topic,
                "version": version,
                "subject": originator_id,
                "sequence": originator_version,
                "position": position,
                "time": time,
                "payload": payload,
            }
        )


# The two costliest steps, done the short way (a third of the time of a decode): a
# frozen dataclass's __init__ sets each field through object.__setattr__, and UUID()
# parses and checks its text. Both build the same objects as the long way.


def _recorded_event(fields: dict[str, Any]) -> RecordedEvent:
    event = object.__new__(RecordedEvent)
    object.__setattr__(event, "__dict__", fields)
    return event


def _uuid(hex_text: str) -> UUID:
    if len(hex_text) != 32:
        raise ValueError(hex_text)
    value = object.__new__(UUID)
    object.__setattr__(value, "int", int(hex_text, 16))
    object.__setattr__(value, "is_safe", SafeUUID.unknown)
    return value


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
            return str(_uuid(value["_data_"]))
        raise _NotPlainError
    if type(value) is list:
        raise _NotPlainError  # containers may hold transcoded values: leave them to the app
    return value
