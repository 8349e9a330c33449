"""The personal fields of a decoded event as its reader sees them: masked, or shown.

A state stores its personal fields either in clear (written before sealing) or as
``PersonalDataMapper``'s blob: those fields null, and their values sealed under the
human's key. A reader without the ``personal`` scope sees ``MASKED`` for every personal
field with a value, read from the blob's list of sealed fields: nothing is decrypted
for it and no key is looked up. A reader with it sees the opened values, or
``FORGOTTEN`` once the key is destroyed; the key comes from the key store, or from the
row itself when the page's query read it beside (``Row.personal_key``).

Each way is a function ``show(blob, row, payload)`` that changes ``payload`` in place.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from hot.application.personal import SealOpener
from hot.application.stored_states import Sealed, SealedUnopened, UnreadableEventError
from hot.domain import FORGOTTEN
from hot_follow.representation import MASKED

if TYPE_CHECKING:
    from hot.application.decoding import Row

Blob = Sealed | SealedUnopened
Show = Callable[[Blob | None, "Row", dict[str, Any]], None]


class Showing:
    """The ``show`` functions of one reader, opening blobs with ``opener`` (None: it has
    no key store, and a sealed field it must show is an error)."""

    def __init__(self, opener: SealOpener | None) -> None:
        self.opener = opener

    def masked(self, personal_fields: Sequence[str]) -> Show:
        """Every personal field with a value (sealed, or in clear) reads ``MASKED``."""
        known = frozenset(personal_fields)
        opened = self.opened()

        def masked(blob: Blob | None, row: Row, payload: dict[str, Any]) -> None:
            if blob is not None:
                if not known.issuperset(blob.fields):
                    opened(blob, row, payload)  # a sealed field no longer personal: in clear
                for field in blob.fields:
                    if field in known:
                        payload[field] = MASKED
            for field in personal_fields:
                if payload[field] is not None:
                    payload[field] = MASKED

        return masked

    def opened(self) -> Show:
        """Sealed fields opened with the key store's key of the row's human."""
        opener = self.opener

        def opened(blob: Blob | None, row: Row, payload: dict[str, Any]) -> None:
            if blob is None:
                return
            if opener is None:
                raise UnreadableEventError(
                    row, "sealed personal fields, and no key store to open them"
                )
            _put(blob.fields, opener.open(row.subject, _sealed_bytes(blob)), payload)

        return opened

    def opened_with_row_keys(self) -> Show:
        """Sealed fields opened with the key read beside the row: no lookup in the store."""
        opener, opened = self.opener, self.opened()

        def opened_keyed(blob: Blob | None, row: Row, payload: dict[str, Any]) -> None:
            key = row.personal_key
            if blob is None or opener is None or key is None:
                # None: no key row at all; the store tells (lost: an error)
                opened(blob, row, payload)
                return
            values = None if not key else opener.open_with(key, row.subject, _sealed_bytes(blob))
            _put(blob.fields, values, payload)  # an empty key: destroyed, forgotten

        return opened_keyed


def _put(fields: list[str], values: dict[str, Any] | None, payload: dict[str, Any]) -> None:
    """The opened ``values`` of the sealed ``fields`` into ``payload`` (None: forgotten).

    As ``PersonalDataMapper`` puts them back into an event, of which the payload shows
    the payload fields: a sealed value of any other field is not shown.
    """
    if values is None:
        for field in fields:
            if field in payload:
                payload[field] = FORGOTTEN
    elif payload.keys() >= values.keys():
        payload.update(values)
    else:
        payload.update((field, value) for field, value in values.items() if field in payload)


def _sealed_bytes(blob: Blob) -> bytes:
    sealed = blob.sealed
    return sealed if isinstance(sealed, bytes) else msgspec.json.decode(sealed, type=bytes)
