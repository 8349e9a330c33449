"""Personal data at rest: each human's personal fields encrypted with a key of their own.

``PersonalDataMapper`` wraps ``eventsourcing``'s mapper. On the way to storage it
takes the personal fields of a human's event (or snapshot) out of the stored state
and puts them back as one AES-GCM blob under the human's key; on the way back it
decrypts them. Destroying a human's key (forgetting them) makes those fields read
as ``FORGOTTEN`` for good, while every other fact stays readable. A key that is
missing without having been destroyed is an error, never silently garbage.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import Snapshot
from eventsourcing.persistence import StoredEvent, Transcoder
from eventsourcing.utils import get_topic

from hot.application.ids import RandomDraws
from hot.application.team_storage import BLOB, TeamEventsMapper, is_team_name
from hot.domain import FORGOTTEN, Human
from hot.tuning import NONCES_DRAWN_AT_ONCE

NONCE_BYTES = 12  # AES-GCM's nonce, written before the ciphertext

__all__ = ["BLOB", "PersonalDataMapper", "PersonalKey", "PersonalKeyStore", "SealOpener"]

HUMAN_TOPIC = get_topic(Human)


class PersonalKeyMissingError(RuntimeError):
    """A human's key is gone without having been destroyed: the key table was lost."""

    rule = "personal-key-missing"

    def __init__(self, human_id: UUID) -> None:
        super().__init__(
            f"The personal-data key of human {human_id} is missing (it was never destroyed): "
            "the key table has been lost or damaged. Restore it from a backup."
        )
        self.human_id = human_id


class PersonalKey(NamedTuple):
    """A human's personal-data key, as a new human's is committed with their first events."""

    human_id: UUID
    key: bytes


class PersonalKeyStore(Protocol):
    """Where the per-human keys (``PersonalKey``) live, apart from the events."""

    def key_for_writing(self, human_id: UUID, *, create: bool) -> bytes | None:
        """The human's key (made if ``create`` and absent); None once destroyed."""
        ...

    def key_for_reading(self, human_id: UUID) -> bytes | None:
        """The human's key; None once destroyed; ``PersonalKeyMissingError`` if lost."""
        ...

    def forget_cached(self, human_id: UUID) -> None:
        """Drop this process's cached copy of the key (it was destroyed)."""
        ...

    def new_key(self, human_id: UUID) -> bytes:
        """A fresh key for a new human, held in this process (the mapper seals their first
        events with it) until ``settle``: it is committed with those events."""
        ...

    def settle(self, human_id: UUID) -> None:
        """The commit of ``human_id``'s first events is over (stored or refused)."""
        ...

    def prefetch(self, human_ids: Iterable[UUID]) -> None:
        """Load many humans' keys in one query, ahead of decoding their events."""
        ...

    def close(self) -> None:
        """Give back what the store holds (connections, a listening thread)."""
        ...


def personal_fields(event: object) -> Sequence[str]:
    """The names of the personal fields ``event`` carries (its payload or snapshot state)."""
    if isinstance(event, Snapshot):
        return Human.PERSONAL_STATE if event.topic == HUMAN_TOPIC else ()
    return tuple(getattr(type(event), "PERSONAL_FIELDS", ()))


class PersonalDataMapper(TeamEventsMapper):
    """Encrypts personal fields per human on write; decrypts (or forgets) them on read.

    It decodes what aggregates are made of (events, snapshots); readers of the log get
    their ``RecordedEvent``s from ``hot.application.decoding``, which opens blobs alike.
    """

    def __init__(self, transcoder: Transcoder, personal_keys: PersonalKeyStore) -> None:
        super().__init__(transcoder)
        self.personal_keys = personal_keys
        self.opener = SealOpener(personal_keys)
        self._nonces = RandomDraws(NONCE_BYTES, NONCES_DRAWN_AT_ONCE)

    def to_stored_events(self, domain_events: Sequence[Any]) -> list[StoredEvent]:
        """The stored form of a transaction's events, the keys of the humans whose personal
        fields they seal fetched first, in one query (not one each, as the committer waits)."""
        sealing = {e.originator_id for e in domain_events if _seals(e)}
        if sealing:
            self.personal_keys.prefetch(sealing)
        return super().to_stored_events(domain_events)

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, Human.TeamEventRecorded):
            return self.team_stored_event(domain_event, self._seal)
        fields = personal_fields(domain_event)
        if not fields:
            return super().to_stored_event(domain_event)
        human_id: UUID = domain_event.originator_id
        creates = isinstance(domain_event, Human.Registered)
        key = self.personal_keys.key_for_writing(human_id, create=creates)
        if key is None:  # forgotten: what is left to store is no personal data
            return super().to_stored_event(domain_event)
        state = dict(_state_of(domain_event))
        values = {f: state[f] for f in fields if state[f] is not None}
        for field in values:
            state[field] = None
        # The names of the sealed fields are no personal data: kept in clear, so that a
        # forgotten human's fields that were null stay null.
        state[BLOB] = self._blob(key, human_id, values)
        clone = object.__new__(type(domain_event))
        object.__setattr__(clone, "__dict__", {**vars(domain_event), **_wrap(domain_event, state)})
        return super().to_stored_event(clone)

    def _seal(self, human_id: UUID, values: dict[str, Any]) -> dict[str, Any] | None:
        """The blob of ``values`` sealed under the human's key (None: forgotten)."""
        key = self.personal_keys.key_for_writing(human_id, create=False)
        if key is None:
            return None
        return self._blob(key, human_id, values)

    def _blob(self, key: bytes, human_id: UUID, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` sealed under ``key`` (with the cipher the opener keeps for it), and the
        names of the fields sealed."""
        cipher = self.opener.cipher(human_id, key)
        sealed = _encrypt(cipher, self._nonces(), human_id, values)
        return {"fields": sorted(values), "sealed": sealed}

    def _open(self, human_id: UUID, blob: dict[str, Any]) -> dict[str, Any]:
        """The values sealed in ``blob``; ``FORGOTTEN`` for each once the key is destroyed."""
        values = self.opener.open(human_id, base64.b64decode(blob["sealed"]))
        return dict.fromkeys(blob["fields"], FORGOTTEN) if values is None else values

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if is_team_name(stored_event.topic):
            return self.team_domain_event(stored_event, self._open)
        domain_event = super().to_domain_event(stored_event)
        if isinstance(domain_event, Human.Forgotten):
            self.personal_keys.forget_cached(domain_event.originator_id)
        state = _state_of(domain_event)
        blob = state.pop(BLOB, None)
        if blob is None:
            return domain_event
        human_id = UUID(str(stored_event.originator_id))
        values = self.opener.open(human_id, base64.b64decode(blob["sealed"]))
        state.update(_forgotten(domain_event, blob["fields"]) if values is None else values)
        if isinstance(domain_event, Snapshot):
            object.__setattr__(domain_event, "state", state)
        return domain_event


def _seals(event: Any) -> bool:
    """Whether storing ``event`` seals a value with a key already kept (a new human's key
    is in hand: see ``PersonalKeyStore.new_key``)."""
    if isinstance(event, Human.Registered | Snapshot):
        return False
    if isinstance(event, Human.TeamEventRecorded):
        return any(event.payload.get(field) is not None for field in event.personal_fields)
    return any(getattr(event, field, None) is not None for field in personal_fields(event))


def _state_of(event: Any) -> dict[str, Any]:
    """The dict holding personal fields: the snapshot's state, or the event's own fields."""
    return dict(event.state) if isinstance(event, Snapshot) else event.__dict__


def _forgotten(event: Any, fields: Iterable[str]) -> dict[str, Any]:
    """What sealed ``fields`` read as once their key is destroyed: ``FORGOTTEN``, or in a
    human's snapshot what their state holds when forgotten (no external ids, say)."""
    if isinstance(event, Snapshot):
        return {field: Human.forgotten_state(field) for field in fields}
    return dict.fromkeys(fields, FORGOTTEN)


def _wrap(event: Any, state: dict[str, Any]) -> dict[str, Any]:
    return {"state": state} if isinstance(event, Snapshot) else state


def _decrypt(cipher: AESGCM, human_id: UUID, sealed: bytes) -> dict[str, Any]:
    return sealed_values(cipher.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], human_id.bytes))


def _encrypt(cipher: AESGCM, nonce: bytes, human_id: UUID, values: dict[str, Any]) -> str:
    sealed = cipher.encrypt(nonce, json.dumps(values).encode(), human_id.bytes)
    return base64.b64encode(nonce + sealed).decode()


_decode_values = msgspec.json.Decoder(dict[str, Any]).decode


class SealOpener:
    """Opens the sealed personal fields of many events, fast.

    Each time it asks ``personal_keys`` for the human's key, so a destroyed key is never used
    (the key store caches keys briefly itself); what it keeps is the AES-GCM cipher
    made from a key, per human, for as long as the store serves that same key, at
    most ``limit`` of them. A human whose key is destroyed has their cipher dropped.
    The ciphers of keys a reader has in hand (``open_with``) are kept by key,
    and all dropped once the store says a key may have been destroyed (``check_keys``).
    """

    def __init__(self, personal_keys: PersonalKeyStore, limit: int = 65_536) -> None:
        self.personal_keys = personal_keys
        self.limit = limit
        self._ciphers: dict[UUID, tuple[bytes, AESGCM]] = {}
        self._by_key: dict[bytes, AESGCM] = {}  # for ``open_with``
        self._by_key_epoch: int | None = None  # the key store's epoch they date from

    def open(self, human_id: UUID, sealed: bytes) -> dict[str, Any] | None:
        """The fields sealed in ``sealed`` (nonce then ciphertext); None if forgotten.

        ``PersonalKeyMissingError`` if the key is missing without having been destroyed.
        """
        key = self.personal_keys.key_for_reading(human_id)
        if key is None:
            self._ciphers.pop(human_id, None)
            return None
        cipher = self.cipher(human_id, key)
        return _decrypt(cipher, human_id, sealed)

    def cipher(self, human_id: UUID, key: bytes) -> AESGCM:
        """The cipher of ``key``, the human's key now: made once, kept while it is theirs."""
        ciphers = self._ciphers
        cipher = ciphers.get(human_id)
        if cipher is None or cipher[0] != key:
            if len(ciphers) >= self.limit:
                ciphers.clear()
            cipher = ciphers[human_id] = (key, AESGCM(key))
        return cipher[1]

    def open_with(self, key: bytes, human_id: UUID, sealed: bytes) -> dict[str, Any]:
        """The fields sealed in ``sealed`` under ``key``, a key the reader has in hand (read
        beside the sealed rows, see ``hot.infra.log_pages``): its cipher is made once and
        kept (at most ``limit`` of them, until ``check_keys`` drops them)."""
        by_key = self._by_key
        cipher = by_key.get(key)
        if cipher is None:
            if len(by_key) >= self.limit:
                by_key.clear()
            cipher = by_key[key] = AESGCM(key)
        return _decrypt(cipher, human_id, sealed)

    def check_keys(self, epoch: int | None) -> None:
        """Drop every cipher ``open_with`` kept if the key store's ``epoch`` moved since they
        were made: a key may have been destroyed, and its cipher must not outlive it."""
        if epoch != self._by_key_epoch:
            self._by_key.clear()
            self._by_key_epoch = epoch


def sealed_values(plain: bytes) -> dict[str, Any]:
    """The fields of an opened blob (its decrypted bytes)."""
    try:
        values: dict[str, Any] = _decode_values(plain)
    except msgspec.DecodeError:  # JSON that only Python's decoder reads (NaN): as it did
        values = json.loads(plain)
    return values
