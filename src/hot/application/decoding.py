"""From rows of the events table to ``RecordedEvent``s: the one decoder of every reader.

The application's queries, the relay and the followers all turn stored events into
the events readers see here, the same way, and fast (a catch-up decodes millions).
Each event name has a msgspec schema of its stored state (``stored_states``): one
pass in C from bytes to checked values. A state of an older ``class_version`` is
decoded as ``eventsourcing`` decodes it (its JSON transcoder), brought to the current
version by the event class's ``upcast_vX_vY`` static methods, then shown as any other.
Personal fields are shown or masked as the reader may see them (``sealed_fields``).
Whatever it cannot read raises ``UnreadableEventError``: there is no other road.

Tests hold it to ``eventsourcing``'s own decoding (the application's mapper, then
``EventType.payload_of`` and ``masked_event``) for every event name, sealed, clear,
forgotten and masked.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple
from uuid import UUID

import msgspec

from hot.application.catalog import CATALOG, EventType
from hot.application.personal import BLOB, PersonalKeyStore, SealOpener
from hot.application.sealed_fields import Show, Showing
from hot.application.stored_states import StateSchema, UnreadableEventError
from hot.application.team_decoding import team_decoders
from hot.application.upcasting import Older, Upcaster
from hot.application.views import RecordedEvent
from hot.domain import Human
from hot.tuning import DECODE_SHARE_EVERY

__all__ = ["EventDecoder", "Row", "UnreadableEventError"]


class Row(NamedTuple):
    """A row of the events table, as a reader of the log reads it."""

    position: int  # notification_id: the event's place in the log
    subject: UUID  # originator_id
    sequence: int  # originator_version
    name: str  # topic: the event's catalog name, for a public event
    state: bytes
    # The key of a sealed row's human when the page's query read it beside the row
    # (empty once destroyed; None when not read, or when the human has no key row).
    personal_key: bytes | None = None


RowDecoder = Callable[[Row], RecordedEvent]
_let_others_run = functools.partial(time.sleep, 0)
_MARKER = f'"{BLOB}"'.encode()  # in the state of a row with sealed fields


class EventDecoder:
    """Decodes rows of the events ``event_types`` (default: the catalog), opening sealed
    personal fields with the keys of ``keys`` (None: a reader that opens none)."""

    def __init__(
        self,
        event_types: Iterable[EventType] = CATALOG,
        *,
        personal_keys: PersonalKeyStore | None = None,
    ) -> None:
        event_types = tuple(event_types)
        self.personal_keys = personal_keys
        self.names = tuple(event_type.name for event_type in event_types)
        self._opener = SealOpener(personal_keys) if personal_keys is not None else None
        showing = Showing(self._opener)
        upcaster = Upcaster()
        # By (personal, keys read beside the rows): masked, opened with the store's keys,
        # or with the rows' own.
        modes: dict[tuple[bool, bool], Callable[[EventType], Show]] = {
            (False, False): lambda t: showing.masked(t.personal_fields),
            (True, False): lambda t: showing.opened(),
            (True, True): lambda t: showing.opened_with_row_keys(),
        }
        self._decoders: dict[tuple[bool, bool], dict[str, RowDecoder]] = {m: {} for m in modes}
        self._team_decoders = team_decoders(showing)  # any other name is a team's type
        for event_type in event_types:
            schema, older = StateSchema(event_type), upcaster.decoder(event_type)
            for (personal, keyed), show_for in modes.items():
                decode = _row_decoder(event_type, schema, older, show_for(event_type), personal)
                if personal_keys is not None and issubclass(
                    event_type.event_class, Human.Forgotten
                ):
                    decode = _forgetting(decode, personal_keys)
                self._decoders[personal, keyed][event_type.name] = decode

    def decode(
        self, rows: Sequence[Row], *, personal: bool = True, keys_read_at: int | None = None
    ) -> list[RecordedEvent]:
        """The events stored in ``rows``, personal fields shown, or masked unless ``personal``.

        ``keys_read_at``: the rows carry their humans' keys (``Row.personal_key``), read
        by a query that began when the key store's ``epoch`` was this; they are used
        unless a key may have been destroyed since. Otherwise the keys of the sealed rows'
        humans are fetched from the store, in one query.
        """
        keyed = False
        if personal and self._opener is not None:
            epoch = getattr(self.personal_keys, "epoch", None)
            self._opener.check_keys(epoch)  # no cipher outlives a destroyed key's page
            keyed = keys_read_at is not None and keys_read_at == epoch
            if not keyed:
                self._prefetch_keys(rows)
        decoder_of = self._decoders[personal, keyed].get
        team = self._team_decoders[personal, keyed]
        events: list[RecordedEvent] = []
        for start in range(0, len(rows), DECODE_SHARE_EVERY):
            if start:  # between chunks only: a page of a few rows (the relay's) never waits
                _let_others_run()
            chunk = rows[start : start + DECODE_SHARE_EVERY]
            events += [decoder_of(row.name, team)(row) for row in chunk]
        return events

    def _prefetch_keys(self, rows: Sequence[Row]) -> None:
        """Fetch the keys of the humans whose sealed fields are in ``rows``, in one query."""
        humans = {row.subject for row in rows if _MARKER in row.state}
        if humans and self.personal_keys is not None:
            self.personal_keys.prefetch(humans)


def _row_decoder(
    event_type: EventType, schema: StateSchema, older: Older, show: Show, personal: bool
) -> RowDecoder:
    """The decoder of one name's rows: ``schema`` for the current version, ``older`` for
    the others, then ``show`` (for every row if masking personal fields, else for the
    sealed ones)."""
    decode, payload_of = schema.decoders[personal], schema.payload_of
    name, version = event_type.name, event_type.version
    always = not personal and bool(event_type.personal_fields)
    refused = (msgspec.ValidationError, msgspec.DecodeError)

    def event_of(row: Row) -> RecordedEvent:
        try:
            stored: Any = decode(row.state)
        except refused:
            stored = None
        if stored is not None and stored.class_version == version:
            event_id, time = stored.event_id._data_, stored.timestamp._data_
            blob, payload = stored.sealed_blob, payload_of(stored)
        else:  # another version's state, or none that it can read
            event_id, time, blob, payload = older(row)
        if always or blob is not None:
            show(blob, row, payload)
        return RecordedEvent(
            event_id, name, version, row.subject, row.sequence, row.position, time, payload
        )

    return event_of


def _forgetting(decode: RowDecoder, personal_keys: PersonalKeyStore) -> RowDecoder:
    """A forgetting's decoder: the human's key leaves this process's cache as it is read
    (as ``PersonalDataMapper`` drops it), so nothing it shows next uses the key."""

    def forgotten(row: Row) -> RecordedEvent:
        event = decode(row)
        personal_keys.forget_cached(row.subject)
        return event

    return forgotten
