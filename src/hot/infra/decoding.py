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

Sealed personal fields (``PersonalDataMapper``'s blob) take the short road too when
the mapper is exactly ``PersonalDataMapper``: their keys come in the page's own rows
(``KEYED``; ``PostgresLog`` reads them beside) or are fetched once per page, and the
blob is opened with the mapper's own ``SealOpener`` (one cipher per key, kept across
pages). A reader without the ``personal`` scope gets the masked
value of a sealed field straight from the blob's list of sealed fields: nothing is
decrypted for it, and no key is looked up.

Tests hold the two roads to the same result for every event name, sealed, clear,
forgotten and masked.
"""

from __future__ import annotations

import contextlib
import functools
import operator
import time
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
from hot.application.personal import (
    BLOB,
    PersonalDataMapper,
    PersonalKeyStore,
    SealOpener,
    sealed_values,
)
from hot.application.representation import MASKED, masked_event
from hot.domain import FORGOTTEN

# Every so many rows, the interpreter lock is let go for a moment: a thread fetching
# the next page (``ReadAhead``) that is waiting for it to convert what PostgreSQL sent
# gets it now, rather than after the switch interval (5 ms, a whole page's decoding).
_SHARE_EVERY = 100
_share_the_interpreter = functools.partial(time.sleep, 0)

# notification_id, originator_id, version, topic, state (a row may carry more columns after)
Row = tuple[int, UUID, int, str, bytes]
# A keyed row's sixth column: the key of a sealed row's human (empty once destroyed),
# None for a row not sealed, or a human without a key row (the table was lost).
KEYED = 5
RowDecoder = Callable[[Row], RecordedEvent | None]  # None: the application decodes it


class _DatetimeISO(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["datetime_iso"]
    _data_: datetime


class _UUIDHex(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["uuid_hex"]
    _data_: UUID


class _DateISO(msgspec.Struct, forbid_unknown_fields=True, rename={"kind": "_type_"}, gc=False):
    kind: Literal["date_iso"]
    _data_: str  # kept as written: it is what the payload shows (date.isoformat())


class _Sealed(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """``PersonalDataMapper``'s blob: which fields are sealed, and the sealed bytes."""

    fields: list[str]
    sealed: bytes  # base64 in the JSON, decoded by msgspec


class _SealedUnopened(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    """The same blob for a reader who never opens it: the sealed bytes stay as the JSON
    string they are (checked to be one), never base64-decoded."""

    fields: list[str]
    sealed: msgspec.Raw


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


def _by_application(row: Row) -> None:
    """The decoder of names the short road does not know: the application decodes them."""


_is_none = functools.partial(operator.is_, None)
_new = object.__new__
_set = object.__setattr__


class _Schema:
    """The msgspec decoder of one event name's states, and how to make its events."""

    def __init__(self, event_type: EventType, *, sealed: bool) -> None:
        self.name = event_type.name
        self.version = event_type.version
        self.personal_fields = event_type.personal_fields
        hints = typing.get_type_hints(event_type.event_class)
        fields: list[tuple[str, Any, Any]] = [
            ("timestamp", _DatetimeISO, msgspec.NODEFAULT),
            ("event_id", _UUIDHex, msgspec.NODEFAULT),
            ("originator_topic", str | None, None),
            ("class_version", int, 1),
        ]
        shows: list[tuple[str, Callable[[Any], Any] | None]] = []
        for name in event_type.payload_fields:
            hint = hints[name]
            if name in self.personal_fields:
                hint = hint | None  # stored null when sealed; the application shows null
            stored, show = _stored_type(hint)
            fields.append((name, stored, msgspec.NODEFAULT))
            shows.append((name, show))
        self.sealed = sealed and bool(self.personal_fields)
        self.payload_of = _payload_maker(shows)
        # One decoder for readers who open sealed blobs, one for those who never do.
        self.decoders: dict[bool, Callable[[bytes], Any]] = {
            personal: _state_decoder(
                event_type.name,
                [*fields, ("sealed_blob", blob | None, None)] if self.sealed else fields,
            )
            for personal, blob in ((True, _Sealed), (False, _SealedUnopened))
        }

    def row_decoder(self, opener: SealOpener | None, *, personal: bool, keyed: bool) -> RowDecoder:
        """A function from a row to its event (personal fields shown, or masked).

        ``keyed``: each row carries its key in a sixth column (``KEYED``).
        """
        decode, version, name = self.decoders[personal], self.version, self.name
        payload_of = self.payload_of
        errors = (msgspec.ValidationError, msgspec.DecodeError)
        show = self._shower(opener, personal=personal, keyed=keyed)

        def event_of(row: Row) -> RecordedEvent | None:
            try:
                stored = decode(row[4])
            except errors:
                return None
            if stored.class_version != version:
                return None  # an older version: the application upcasts it
            payload = payload_of(stored)
            if show is not None and not show(stored, row, payload):
                return None
            event = _new(RecordedEvent)
            _set(
                event,
                "__dict__",
                {
                    "id": stored.event_id._data_,
                    "name": name,
                    "version": version,
                    "subject": row[1],
                    "sequence": row[2],
                    "position": row[0],
                    "time": stored.timestamp._data_,
                    "payload": payload,
                },
            )
            return event

        return event_of

    def _shower(
        self, opener: SealOpener | None, *, personal: bool, keyed: bool
    ) -> Callable[[Any, Row, dict[str, Any]], bool] | None:
        """What turns the stored personal fields of a payload into what the reader sees,
        in place; it returns False when only the application can tell (None: nothing to do).
        """
        fields = self.personal_fields
        if not fields:
            return None
        known = frozenset(fields)
        sealed = self.sealed

        def masked(stored: Any, row: Row, payload: dict[str, Any]) -> bool:
            blob = stored.sealed_blob if sealed else None
            if blob is not None:
                if not known.issuperset(blob.fields):
                    return False  # a sealed field no longer personal: shown in clear
                for field in blob.fields:
                    payload[field] = MASKED
            for field in fields:
                if payload[field] is not None:
                    payload[field] = MASKED
            return True

        if not personal:
            return masked
        if not sealed or opener is None:
            return None
        open_, cipher_of = opener.open, opener.cipher

        def shown(blob: _Sealed, values: dict[str, Any] | None, payload: dict[str, Any]) -> bool:
            if values is None:  # forgotten
                for field in blob.fields:
                    if field in payload:
                        payload[field] = FORGOTTEN
                return True
            if not payload.keys() >= values.keys():
                return False  # it would set more than payload fields
            payload.update(values)
            return True

        def opened(stored: Any, row: Row, payload: dict[str, Any]) -> bool:
            blob = stored.sealed_blob
            if blob is None:
                return True
            return shown(blob, open_(row[1], blob.sealed), payload)

        def opened_keyed(stored: Any, row: Row, payload: dict[str, Any]) -> bool:
            # ``SealOpener.open`` with the row's key (no lookup in the key store).
            blob = stored.sealed_blob
            if blob is None:
                return True
            key = cast(bytes | None, row[KEYED])
            if not key:  # None: no key at all, the store tells (lost: an error); b"": destroyed
                return shown(blob, None if key is not None else open_(row[1], blob.sealed), payload)
            sealed = blob.sealed
            return shown(
                blob,
                sealed_values(cipher_of(key).decrypt(sealed[:12], sealed[12:], row[1].bytes)),
                payload,
            )

        return opened_keyed if keyed else opened


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
        # Blobs sealed by exactly this mapper class are opened here (a subclass may differ).
        opener = mapper.opener if type(mapper) is PersonalDataMapper else None
        self._opener = opener
        self._sealed_names: frozenset[str] = frozenset()
        # By (personal, keyed): masked, shown with the key store's keys, or the rows' own.
        modes = ((True, False), (True, True), (False, False))
        self._decoders: dict[tuple[bool, bool], dict[str, RowDecoder]] = {m: {} for m in modes}
        mapper_only: frozenset[str] = getattr(mapper, "decoded_by_mapper_only", frozenset())
        for event_type in CATALOG:
            if event_type.name in mapper_only:
                continue  # its decoding has an effect only the mapper performs
            # A payload type the short road does not know: that name takes the long road.
            with contextlib.suppress(_NoPlainDecodingError):
                schema = _Schema(event_type, sealed=opener is not None)
                for personal, keyed in modes:
                    self._decoders[personal, keyed][schema.name] = schema.row_decoder(
                        opener, personal=personal, keyed=keyed
                    )
                if schema.sealed:
                    self._sealed_names |= {schema.name}

    def decode(self, row: Row, *, personal: bool = True) -> RecordedEvent:
        """The event stored in ``row``, exactly as ``app.recorded_event`` would give it
        (and masked as ``masked_event`` masks it, unless ``personal``)."""
        return self.decode_all([row], personal=personal)[0]

    def decode_all(
        self,
        rows: Sequence[Row],
        *,
        personal: bool = True,
        keys_fetched: bool = False,
        keyed_at: int | None = None,
    ) -> list[RecordedEvent]:
        """The events stored in ``rows``: the short road for each, the long road for the rest
        together (``app.recorded_events`` fetches their keys in one query, not one each).

        ``keys_fetched``: ``prefetch_keys(rows)`` was called just before (in a thread that
        fetched the rows, say), so it is not done again. ``keyed_at``: each row carries
        its key (``KEYED``), read by a query that began when the key store's ``epoch``
        was this; they are used unless a key was destroyed since (then the store's are).
        """
        if not self.fast:
            return self._decode_by_application(rows, personal=personal)
        epoch = self._epoch() if personal else None
        if personal and self._opener is not None:
            self._opener.check_keys(epoch)  # no cipher outlives a destroyed key's page
        keyed = personal and keyed_at is not None and epoch == keyed_at
        if personal and not keyed and not keys_fetched:
            self.prefetch_keys(rows)
        decoder_of = self._decoders[personal, keyed].get
        found: list[RecordedEvent | None] = []
        for start in range(0, len(rows), _SHARE_EVERY):
            if start:  # between chunks only: a page of a few rows (the relay's) never waits
                _share_the_interpreter()
            found += [
                decoder_of(row[3], _by_application)(row)
                for row in rows[start : start + _SHARE_EVERY]
            ]
        if any(map(_is_none, found)):  # in C: ``None in found`` would call __eq__ on each
            slow = [i for i, event in enumerate(found) if event is None]
            decoded = self._decode_by_application([rows[i] for i in slow], personal=personal)
            for i, event in zip(slow, decoded, strict=True):
                found[i] = event
        return cast(list[RecordedEvent], found)

    def _epoch(self) -> int | None:
        return getattr(self.keys, "epoch", None)

    @property
    def keys(self) -> PersonalKeyStore | None:
        """The key store of the sealed fields this decoder opens (None: it opens none)."""
        return self._opener.personal_keys if self._opener is not None and self.fast else None

    def prefetch_keys(self, rows: Sequence[Row]) -> None:
        """Fetch the keys of the humans whose sealed fields are in ``rows``, in one query
        (into the key store's short cache), for decoding them with personal fields."""
        if self._opener is None or not self.fast:
            return
        sealed, marker = self._sealed_names, f'"{BLOB}"'.encode()
        humans = {row[1] for row in rows if row[3] in sealed and marker in row[4]}
        if humans:
            self._opener.personal_keys.prefetch(humans)

    def _decode_by_application(self, rows: Sequence[Row], *, personal: bool) -> list[RecordedEvent]:
        notifications = [_notification(row) for row in rows]
        many = getattr(self.app, "recorded_events", None)
        decoded: list[RecordedEvent] = (
            many(notifications)
            if many is not None
            else [self.app.recorded_event(n) for n in notifications]
        )
        return decoded if personal else [masked_event(e) for e in decoded]


def _notification(row: Row) -> Notification:
    position, originator_id, originator_version, topic, state = row[:5]
    return Notification(
        id=position,
        originator_id=originator_id,
        originator_version=originator_version,
        topic=topic,
        state=bytes(state),
    )
