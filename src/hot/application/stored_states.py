"""How an event's state is stored, as msgspec schemas: one pass in C from bytes to values.

``eventsourcing`` stores a state as JSON: the event's fields, with dates, UUIDs and
times as ``{"_type_": ..., "_data_": ...}`` objects (its transcodings and HoT's), and,
when personal fields are sealed, ``PersonalDataMapper``'s blob. A schema per event
name parses, checks and converts such a state at once (timestamps, UUIDs), and refuses
anything it was not made for: an unknown key, a value of another type.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import Any, Literal
from uuid import UUID

import msgspec

from hot.application.catalog import EventType
from hot.application.personal import BLOB

if typing.TYPE_CHECKING:
    from hot.application.decoding import Row


class UnreadableEventError(Exception):
    """A stored event that cannot be read as any version of its event class: not JSON,
    not the state its class stores, an unknown name, or sealed fields with no key store."""

    def __init__(self, row: Row, reason: str) -> None:
        super().__init__(
            f"The event at position {row.position} ({row.name}) is unreadable: {reason}."
        )
        self.position = row.position
        self.name = row.name


class DatetimeISO(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["datetime_iso"]
    _data_: datetime


class UUIDHex(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["uuid_hex"]
    _data_: UUID


class _DateISO(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["date_iso"]
    _data_: str  # kept as written: it is what the payload shows (date.isoformat())


class Sealed(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """``PersonalDataMapper``'s blob: which fields are sealed, and the sealed bytes."""

    fields: list[str]
    sealed: bytes  # base64 in the JSON, decoded by msgspec


class SealedUnopened(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The same blob for a reader who never opens it: the sealed bytes stay the JSON
    string they are (checked to be one), never base64-decoded."""

    fields: list[str]
    sealed: msgspec.Raw


Show = Callable[[Any], Any] | None  # how the payload shows a stored value (None: as it is)


def _show_date(value: _DateISO) -> str:
    return value._data_


_STORED: dict[Any, tuple[Any, Show]] = {
    date: (_DateISO, _show_date),
    UUID: (UUIDHex, lambda v: str(v._data_)),
    str: (str, None),
    int: (int, None),
    bool: (bool, None),
    dict[str, Any]: (dict[str, Any], None),  # a schema or upcast of the open catalog
    list[str]: (list[str], None),
}


class StateSchema:
    """The decoders of one event name's states (one for readers who open sealed blobs,
    one for those who never do), and the function from a decoded state to its payload.

    A decoded state has ``timestamp._data_``, ``event_id._data_``, ``class_version``,
    each payload field, and ``sealed_blob`` (None when nothing is sealed).
    """

    def __init__(self, event_type: EventType) -> None:
        hints = typing.get_type_hints(event_type.event_class)
        fields: list[tuple[str, Any, Any]] = [
            ("timestamp", DatetimeISO, msgspec.NODEFAULT),
            ("event_id", UUIDHex, msgspec.NODEFAULT),
            ("originator_topic", str | None, None),
            ("class_version", int, 1),
        ]
        shows: list[tuple[str, Show]] = []
        for name in event_type.payload_fields:
            hint = hints[name]
            if name in event_type.personal_fields:
                hint = hint | None  # stored null when sealed
            stored, show = stored_type(hint)
            fields.append((name, stored, msgspec.NODEFAULT))
            shows.append((name, show))
        self.payload_of = payload_maker(shows)
        self.decoders: dict[bool, Callable[[bytes], Any]] = {
            opens: _state_decoder(event_type.name, [*fields, ("sealed_blob", blob | None, None)])
            for opens, blob in ((True, Sealed), (False, SealedUnopened))
        }


def _state_decoder(name: str, fields: list[tuple[str, Any, Any]]) -> Callable[[bytes], Any]:
    """A msgspec decoder of states with ``fields`` (name, type, default or NODEFAULT)."""
    struct = msgspec.defstruct(
        f"{name}State",
        [(n, t) if d is msgspec.NODEFAULT else (n, t, d) for n, t, d in fields],
        forbid_unknown_fields=True,
        kw_only=True,
        rename={"sealed_blob": BLOB},
        gc=False,  # short-lived, and never in a cycle: not worth the collector's time
    )
    return msgspec.json.Decoder(struct).decode


def payload_maker(shows: list[tuple[str, Show]]) -> Callable[[Any], dict[str, Any]]:
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


def stored_type(hint: Any) -> tuple[Any, Show]:
    """The msgspec type of a payload field's stored value, and how the payload shows it;
    ``TypeError`` for a type no HoT event stores."""
    if isinstance(hint, types.UnionType) and type(None) in hint.__args__:
        (inner,) = [a for a in hint.__args__ if a is not type(None)]
        stored, show = stored_type(inner)
        return stored | None, (lambda v: None if v is None else show(v)) if show else None
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return str, None  # stored as its value; the payload shows the value
    if hint not in _STORED:
        raise TypeError(f"No stored form is known for a payload field of type {hint!r}.")
    return _STORED[hint]
