"""The decoder on states made here, without a database: upcasting an older version as
``eventsourcing`` does, refusing by name what it cannot read, and its payload makers."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any, cast
from uuid import UUID, uuid4

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import Mapper, StoredEvent
from eventsourcing.utils import _topic_cache, register_topic

from hot.application import CATALOG, EventType, RecordedEvent
from hot.application.decoding import EventDecoder, Row, UnreadableEventError
from hot.application.personal import PersonalDataMapper, PersonalKeyStore, SealOpener, _encrypt
from hot.application.stored_states import UUIDHex, _DateISO, _show_date, payload_maker, stored_type
from hot.application.transcodings import states_transcoder
from hot.domain import Human, HumanKind
from hot_follow.representation import MASKED

TOPIC = "hot-test-decoding:BADGE_ISSUED"
WHEN = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


class BadgeIssuedV1(Human.Event):
    """Version 1: a badge with its holder's name (personal) and a day."""

    TOPIC = TOPIC
    PERSONAL_FIELDS = ("name",)
    name: str
    on: date


class BadgeIssued(Human.Event):
    """Version 2: every badge has a level; version-1 badges were level 1."""

    TOPIC = TOPIC
    PERSONAL_FIELDS = ("name",)
    class_version = 2
    name: str
    on: date
    level: int

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        state["level"] = 1


class DictKeyStore:
    """Per-human keys in a dict: the key store a ``PersonalDataMapper`` needs."""

    def __init__(self) -> None:
        self.by_human: dict[UUID, bytes | None] = {}

    def key_for_writing(self, human_id: UUID, *, create: bool) -> bytes | None:
        return self.by_human.setdefault(human_id, bytes(range(32)))

    def key_for_reading(self, human_id: UUID) -> bytes | None:
        return self.by_human[human_id]

    def forget_cached(self, human_id: UUID) -> None:
        pass

    def prefetch(self, human_ids: object) -> None:
        pass


@pytest.fixture
def personal_keys() -> DictKeyStore:
    return DictKeyStore()


@pytest.fixture(autouse=True)
def _topic_forgotten() -> Iterator[None]:
    """Whichever version of the event the library cached for its topic is forgotten after."""
    yield
    _topic_cache.pop(TOPIC, None)


@pytest.fixture
def mapper(personal_keys: DictKeyStore) -> PersonalDataMapper:
    """The application's mapper."""
    return PersonalDataMapper(states_transcoder(), cast(PersonalKeyStore, personal_keys))


def _upgrade() -> None:
    """As a new release of the code would: version 2 of the event under the same topic."""
    _topic_cache.pop(TOPIC, None)
    register_topic(TOPIC, BadgeIssued)


def _row(mapper: Mapper[UUID], event: Any, *, position: int = 7) -> Row:
    stored = mapper.to_stored_event(event)
    return Row(position, event.originator_id, event.originator_version, TOPIC, stored.state)


def _badge_v1(name: str) -> BadgeIssuedV1:
    return BadgeIssuedV1(
        originator_id=uuid4(),
        originator_version=1,
        timestamp=WHEN,
        event_id=uuid4(),
        name=name,
        on=date(2026, 2, 27),
    )


def _as_the_library_reads(mapper: Mapper[UUID], row: Row) -> RecordedEvent:
    stored = StoredEvent(row.subject, row.sequence, row.name, row.state)
    event: Any = mapper.to_domain_event(stored)
    event_type = EventType(BadgeIssued)
    return RecordedEvent(
        event.event_id,
        event_type.name,
        2,
        event.originator_id,
        event.originator_version,
        row.position,
        event.timestamp,
        event_type.payload_of(event),
    )


def test_a_version_1_state_is_upcast_by_the_event_class_as_the_library_upcasts_it(
    mapper: PersonalDataMapper, personal_keys: DictKeyStore
) -> None:
    decoder = EventDecoder(
        [EventType(BadgeIssued)], personal_keys=cast(PersonalKeyStore, personal_keys)
    )
    row = _row(mapper, _badge_v1("Ann"))  # sealed: the name is personal
    _upgrade()

    (shown,) = decoder.decode([row])
    (masked,) = decoder.decode([row], personal=False)

    assert b"class_version" not in row.state  # version 1
    assert b"Ann" not in row.state  # sealed
    assert shown == _as_the_library_reads(mapper, row)
    assert (shown.version, shown.time, shown.position) == (2, WHEN, 7)
    assert shown.payload == {"name": "Ann", "on": "2026-02-27", "level": 1}
    assert masked.payload == {"name": MASKED, "on": "2026-02-27", "level": 1}


def test_a_version_2_state_is_read_as_it_is() -> None:
    decoder = EventDecoder([EventType(BadgeIssued)])
    event = BadgeIssued(
        originator_id=uuid4(),
        originator_version=3,
        timestamp=WHEN,
        event_id=uuid4(),
        name="Bo",
        on=date(2026, 2, 28),
        level=4,
    )
    row = _row(Mapper(states_transcoder()), event)  # in clear

    (decoded,) = decoder.decode([row])

    assert b'"class_version":2' in row.state
    assert decoded.payload == {"name": "Bo", "on": "2026-02-28", "level": 4}
    assert decoder.decode([row], personal=False)[0].payload["name"] == MASKED


def _registered_row(mapper: PersonalDataMapper) -> Row:
    human = Human.register("Cy", "cy@example.org", HumanKind.EMPLOYEE)
    (event,) = human.collect_events()
    return Row(1, human.id, 1, "HUMAN_REGISTERED", mapper.to_stored_event(event).state)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda s: b"not json", "not a stored state"),
        (lambda s: s.replace(b"{", b'{"extra":1,', 1), "version 1 of the event"),
        (lambda s: s.replace(b"{", b'{"class_version":3,', 1), "version 3 of the event"),
        (lambda s: s.replace(b"{", b'{"class_version":0,', 1), "no upcast_v0_v1"),
        (lambda s: s.replace(b'"fields"', b'"fieldz"', 1), "version 1 of the event"),
    ],
)
def test_a_state_it_cannot_read_raises_a_named_error(
    mapper: PersonalDataMapper, personal_keys: DictKeyStore, change: Any, reason: str
) -> None:
    decoder = EventDecoder(personal_keys=cast(PersonalKeyStore, personal_keys))
    row = _registered_row(mapper)
    broken = row._replace(state=change(row.state))

    assert decoder.decode([row])[0].payload["name"] == "Cy"
    for personal in (True, False):
        with pytest.raises(UnreadableEventError, match=reason) as raised:
            decoder.decode([broken], personal=personal)
        assert (raised.value.position, raised.value.name) == (1, "HUMAN_REGISTERED")


def test_an_unknown_name_or_a_sealed_field_without_keys_is_refused_by_name(
    mapper: PersonalDataMapper,
) -> None:
    row = _registered_row(mapper)

    # Any name that is not a built-in's is read as a team's event: this state is none.
    with pytest.raises(UnreadableEventError, match="not a team event's state"):
        EventDecoder().decode([row._replace(name="HUMAN_PROMOTED")])
    with pytest.raises(UnreadableEventError, match="no key store"):
        EventDecoder().decode([row])
    assert EventDecoder().decode([row], personal=False)[0].payload["name"] == MASKED


def test_every_catalog_payload_type_has_a_stored_form_and_others_are_refused() -> None:
    assert EventDecoder().names == CATALOG.names
    with pytest.raises(TypeError, match="No stored form"):
        stored_type(float)


def test_payload_makers_show_values_as_the_catalog_does() -> None:
    optional_date = stored_type(date | None)[1]
    uuid_text = stored_type(UUID)[1]
    state = SimpleNamespace(
        on=_DateISO(kind="date_iso", _data_="2026-11-02"),
        off=None,
        who=UUIDHex(kind="uuid_hex", _data_=UUID(int=7)),
        role="engineer",
    )

    assert payload_maker([])(state) == {}
    assert payload_maker([("on", _show_date)])(state) == {"on": "2026-11-02"}
    assert payload_maker([("on", _show_date), ("role", None)])(state) == {
        "on": "2026-11-02",
        "role": "engineer",
    }
    assert payload_maker([("off", optional_date), ("who", uuid_text), ("role", None)])(state) == {
        "off": None,
        "who": str(UUID(int=7)),
        "role": "engineer",
    }


def test_the_opener_keeps_a_cipher_per_key_and_drops_it_when_the_key_changes_or_is_destroyed(
    personal_keys: DictKeyStore,
) -> None:
    opener = SealOpener(cast(PersonalKeyStore, personal_keys))
    human = UUID(int=1)
    personal_keys.by_human[human] = bytes(32)
    first = _seal(bytes(32), human, {"name": "Ann"})

    assert opener.open(human, first) == {"name": "Ann"}
    cipher = opener._ciphers[human]
    assert opener.open(human, _seal(bytes(32), human, {"name": "Ann B"})) == {"name": "Ann B"}
    assert opener._ciphers[human] is cipher  # the same cipher, across opens

    personal_keys.by_human[human] = b"\x01" * 32
    assert opener.open(human, _seal(b"\x01" * 32, human, {"name": "Cy"})) == {"name": "Cy"}
    assert opener._ciphers[human] is not cipher
    personal_keys.by_human[human] = None  # destroyed
    assert opener.open(human, first) is None
    assert human not in opener._ciphers


def _seal(key: bytes, human: UUID, values: dict[str, str]) -> bytes:
    return base64.b64decode(_encrypt(AESGCM(key), os.urandom(12), human, values))
