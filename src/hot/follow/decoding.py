"""From stored rows to ``RecordedEvent``s, fast: the catch-up path's hot loop.

``HumansApplication.recorded_event`` decodes through ``eventsourcing``'s mapper (a
JSON decoder with an object hook, a domain event object, then its payload). That is
the definition. This module takes a shorter road to the identical value for the
states it fully understands, and hands every other state to the application.

The short road is a msgspec schema per event name, derived from the event class: it
parses, checks and converts a state in one pass in C (timestamps, UUIDs), and it
refuses what it was not made for (an older class version to upcast, an unknown key,
a value of another type), which then goes the long road. It stays off for any mapper
but ``eventsourcing``'s own (a subclass may do anything on the way back: decrypt
fields, keep caches), unless that mapper declares ``plain_states_decode_unchanged =
True``: its states without extra keys decode as the base mapper decodes them.
Tests hold the two roads to the same result for every event name.
"""

from __future__ import annotations

import contextlib
import types
import typing
from collections.abc import Callable, Sequence
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Literal, cast
from uuid import UUID

import msgspec
from eventsourcing.persistence import JSONTranscoder, Mapper, Notification

from hot.application import CATALOG, EventType, HumansApplication, RecordedEvent

Row = tuple[int, UUID, int, str, bytes]  # notification_id, originator_id, version, topic, state


class _DatetimeISO(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["datetime_iso"]
    _data_: datetime


class _UUIDHex(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["uuid_hex"]
    _data_: UUID


class _DateISO(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["date_iso"]
    _data_: str  # kept as written: it is what the payload shows (date.isoformat())


# How a payload value is stored, and how the payload shows it (None: as it is).
def _show_date(value: _DateISO) -> str:
    return value._data_


_STORED: dict[Any, tuple[Any, Callable[[Any], Any] | None]] = {
    date: (_DateISO, _show_date),
    UUID: (_UUIDHex, lambda v: str(v._data_)),
    str: (str, None),
    int: (int, None),
    bool: (bool, None),
}


class _Schema:
    """The msgspec decoder of one event name's states, and how to make its payload."""

    def __init__(self, event_type: EventType) -> None:
        self.version = event_type.version
        hints = typing.get_type_hints(event_type.event_class)
        fields: list[tuple[str, Any, Any]] = [
            ("timestamp", _DatetimeISO, msgspec.NODEFAULT),
            ("event_id", _UUIDHex, msgspec.NODEFAULT),
            ("originator_topic", str | None, None),
            ("class_version", int, 1),
        ]
        shows: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in event_type.payload_fields:
            stored, show = _stored_type(hints[name])
            fields.append((name, stored, msgspec.NODEFAULT))
            shows.append((name, show))
        self.payload_of = _payload_maker(shows)
        struct = msgspec.defstruct(
            f"{event_type.name}State",
            [(n, t) if d is msgspec.NODEFAULT else (n, t, d) for n, t, d in fields],
            forbid_unknown_fields=True,
            kw_only=True,
            gc=False,  # short-lived, and never in a cycle: not worth the collector's time
        )
        self.decode: Callable[[bytes], Any] = msgspec.json.Decoder(struct).decode


def _payload_maker(shows: list[tuple[str, Callable[[Any], Any] | None]]) -> Callable[[Any], Any]:
    """A function from a decoded state to its payload dict, in C where it can be.

    Values shown as stored, and dates (shown as written), are read with one
    ``attrgetter``; other conversions call their function.
    """
    names = tuple(name for name, _ in shows)
    paths = [
        name if show is None else f"{name}._data_" if show is _show_date else None
        for name, show in shows
    ]
    if not names:
        return lambda stored: {}
    if None in paths:
        return lambda stored: {
            name: getattr(stored, name) if show is None else show(getattr(stored, name))
            for name, show in shows
        }
    read = attrgetter(*(path for path in paths if path is not None))
    if len(names) == 1:
        (only,) = names
        return lambda stored: {only: read(stored)}
    return lambda stored: dict(zip(names, read(stored), strict=True))


class _NoPlainDecodingError(Exception):
    """A payload field of a type the short road does not decode."""


def _stored_type(hint: Any) -> tuple[Any, Callable[[Any], Any] | None]:
    """The msgspec type of a payload field's stored value, and its conversion for the payload."""
    if isinstance(hint, types.UnionType) and type(None) in hint.__args__:
        (inner,) = [a for a in hint.__args__ if a is not type(None)]
        stored, show = _stored_type(inner)
        return stored | None, (lambda v: None if v is None else show(v)) if show else None
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return str, None  # stored as its value; the payload shows the value
    if hint not in _STORED:
        raise _NoPlainDecodingError(hint)
    return _STORED[hint]


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
        self._schemas: dict[str, _Schema] = {}
        mapper_only: frozenset[str] = getattr(mapper, "decoded_by_mapper_only", frozenset())
        for event_type in CATALOG:
            if event_type.name in mapper_only:
                continue  # its decoding has an effect only the mapper performs
            # A payload type the short road does not know: that name takes the long road.
            with contextlib.suppress(_NoPlainDecodingError):
                self._schemas[event_type.name] = _Schema(event_type)

    def decode(self, row: Row) -> RecordedEvent:
        """The event stored in ``row``, exactly as ``app.recorded_event`` would give it."""
        return self.decode_all([row])[0]

    def decode_all(self, rows: Sequence[Row]) -> list[RecordedEvent]:
        """The events stored in ``rows``: the short road for each, the long road for the rest
        together (``app.recorded_events`` fetches their keys in one query, not one each)."""
        plain = self._decode_plain
        found = [plain(row) for row in rows] if self.fast else [None] * len(rows)
        slow = [i for i, event in enumerate(found) if event is None]
        if slow:
            notifications = [_notification(rows[i]) for i in slow]
            many = getattr(self.app, "recorded_events", None)
            decoded = (
                many(notifications)
                if many is not None
                else [self.app.recorded_event(n) for n in notifications]
            )
            for i, event in zip(slow, decoded, strict=True):
                found[i] = event
        return cast(list[RecordedEvent], found)

    def _decode_plain(self, row: Row) -> RecordedEvent | None:
        """The event, or None when the state needs the application's full decoding."""
        position, originator_id, originator_version, topic, state = row
        schema = self._schemas.get(topic)
        if schema is None:
            return None
        try:
            stored = schema.decode(state)
        except (msgspec.ValidationError, msgspec.DecodeError):
            return None
        if stored.class_version != schema.version:
            return None  # an older version: the application upcasts it
        payload = schema.payload_of(stored)
        return _recorded_event(
            {
                "id": stored.event_id._data_,
                "name": topic,
                "version": schema.version,
                "subject": originator_id,
                "sequence": originator_version,
                "position": position,
                "time": stored.timestamp._data_,
                "payload": payload,
            }
        )


def _notification(row: Row) -> Notification:
    position, originator_id, originator_version, topic, state = row
    return Notification(
        id=position,
        originator_id=originator_id,
        originator_version=originator_version,
        topic=topic,
        state=bytes(state),
    )


def _recorded_event(fields: dict[str, Any]) -> RecordedEvent:
    """The same object as ``RecordedEvent(**fields)``, without the frozen ``__init__``'s
    one ``object.__setattr__`` per field (a third of the cost of a decode)."""
    event = object.__new__(RecordedEvent)
    object.__setattr__(event, "__dict__", fields)
    return event
