"""The fast decoder gives exactly the events the application's own decoding gives."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import NoReturn, cast
from uuid import UUID

import psycopg
import pytest
from eventsourcing.persistence import Mapper

from hot.application import CATALOG, HumansApplication, RecordedEvent
from hot.application.personal import PersonalKeyMissingError, PersonalKeyStore, SealOpener
from hot.application.representation import MASKED, masked_event
from hot.domain import FORGOTTEN, HumanKind
from hot.follow import PostgresLog
from hot.infra.decoding import (
    KEYED,
    EventDecoder,
    Row,
    _DateISO,
    _payload_maker,
    _show_date,
    _stored_type,
    _UUIDHex,
)
from tests.blocking import blocking_application
from tests.waiting import wait_until

from .conftest import TODAY, full_log, live_a_life

pytestmark = pytest.mark.postgres

LIFE = ("HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_ATTENDED", "HUMAN_DETAILS_CHANGED", "HUMAN_LEFT")


def short_road(
    decoder: EventDecoder, row: Row, *, personal: bool = True, keyed: bool = False
) -> RecordedEvent | None:
    """The event decoded without the application, or None if the decoder would ask it."""
    decode = decoder._decoders[personal, keyed].get(row[3])
    return None if decode is None else decode(row)


def rows_of(app: HumansApplication) -> list[Row]:
    return [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(0, 1000, topics=CATALOG.names)
    ]


def test_every_event_name_decodes_as_the_application_decodes(app: HumansApplication) -> None:
    live_a_life(app, 3, "ann")
    other = app.register("Bo", "bo@example.org", HumanKind.VISITOR).id
    app.join(other, TODAY - timedelta(days=3), "guest")
    app.leave(other, TODAY, None)  # a null reason
    app.change_details(other, email="bo2@example.org")  # a null name

    expected = full_log(app)
    found = PostgresLog(app).read(0, 1000)

    assert {e.name for e in found} >= set(LIFE)
    assert found == expected
    assert [list(e.payload) for e in found] == [list(e.payload) for e in expected]  # key order
    assert all(
        type(a.time) is type(b.time) and a.time.tzinfo == b.time.tzinfo
        for a, b in zip(found, expected, strict=True)
    )


def test_states_it_does_not_know_go_to_the_application(app: HumansApplication) -> None:
    live_a_life(app, 1, "cy")
    decoder = EventDecoder(app)
    rows = rows_of(app)
    older = rows[0][4].replace(b"{", b'{"class_version":0,', 1)  # a version it must upcast
    broken = rows[0][4].replace(b"{", b'{"_personal":{"sealed":"..."},', 1)  # not a blob
    unknown = rows[1][4].replace(b"{", b'{"extra":1,', 1)  # an unknown key

    assert short_road(decoder, (*rows[0][:4], older)) is None
    assert short_road(decoder, (*rows[0][:4], broken)) is None
    assert short_road(decoder, (*rows[1][:4], unknown)) is None
    assert short_road(decoder, (*rows[0][:4], b"not json")) is None
    assert [decoder.decode(r) for r in rows] == full_log(app)


def test_a_page_reads_only_the_names_asked_for_and_stops_at_upto(app: HumansApplication) -> None:
    live_a_life(app, 4, "di")
    log = full_log(app)
    source = PostgresLog(app)

    attended = source.read(0, 100, ["HUMAN_ATTENDED"])
    upto = source.read(0, 100, upto=log[2].position)

    assert attended == [e for e in log if e.name == "HUMAN_ATTENDED"]
    assert upto == log[:3]
    assert source.first_after(log[2].position) == log[3].position
    assert source.first_after(log[-1].position) is None
    assert source.head() == log[-1].position
    assert source.head(["HUMAN_JOINED"]) == next(
        e.position for e in log if e.name == "HUMAN_JOINED"
    )


def test_it_stays_off_for_other_mappers_unless_they_say_plain_states_are_unchanged(
    app: HumansApplication,
) -> None:
    class Decrypting(Mapper[UUID]):
        """A mapper that might do anything on the way back."""

    class Declared(Mapper[UUID]):
        plain_states_decode_unchanged = True

    def decoder_with(mapper_class: type[Mapper[UUID]]) -> EventDecoder:
        fake = SimpleNamespace(mapper=mapper_class(app.mapper.transcoder))
        return EventDecoder(cast(HumansApplication, fake))

    declared = getattr(app.mapper, "plain_states_decode_unchanged", False)
    assert EventDecoder(app).fast == (type(app.mapper) is Mapper or declared)
    assert not decoder_with(Decrypting).fast
    assert decoder_with(Declared).fast


def test_payload_makers_show_values_as_the_catalog_does() -> None:
    optional_date = _stored_type(date | None)[1]
    uuid_text = _stored_type(UUID)[1]
    state = SimpleNamespace(
        on=_DateISO(kind="date_iso", _data_="2026-11-02"),
        off=None,
        who=_UUIDHex(kind="uuid_hex", _data_=UUID(int=7)),
        role="engineer",
    )

    assert _payload_maker([])(state) == {}
    assert _payload_maker([("on", _show_date)])(state) == {"on": "2026-11-02"}
    assert _payload_maker([("on", _show_date), ("role", None)])(state) == {
        "on": "2026-11-02",
        "role": "engineer",
    }
    assert _payload_maker([("off", optional_date), ("who", uuid_text), ("role", None)])(state) == {
        "off": None,
        "who": str(UUID(int=7)),
        "role": "engineer",
    }


def test_sealed_clear_and_forgotten_fields_decode_as_the_application_decodes_them_shown_or_masked(
    app: HumansApplication, database_url: str
) -> None:
    clear_writer = blocking_application(database_url, seal_personal_data=False)
    live_a_life(clear_writer, 2, "old")  # written before sealing: personal fields in clear
    clear_writer.close()
    live_a_life(app, 2, "ann")
    gone = app.register("Bo", "bo@example.org", HumanKind.VISITOR).id
    app.change_details(gone, email="bo2@example.org")  # a null name: not sealed
    app.join(gone, TODAY - timedelta(days=2), "guest")
    app.leave(gone, TODAY, "moved away")
    app.forget(gone, by="ops")
    reader = blocking_application(database_url)  # keys not cached yet

    expected = full_log(reader)
    decoder = EventDecoder(reader)
    rows = rows_of(reader)
    shown = decoder.decode_all(rows)
    masked = decoder.decode_all(rows, personal=False)

    assert shown == expected
    assert masked == [masked_event(e) for e in expected]
    assert [list(e.payload) for e in masked] == [list(e.payload) for e in expected]
    payloads = {(e.name, e.subject == gone): e.payload for e in shown}
    assert payloads["HUMAN_REGISTERED", True] == {
        "name": FORGOTTEN,
        "email": FORGOTTEN,
        "kind": "visitor",
    }
    assert payloads["HUMAN_DETAILS_CHANGED", True] == {"name": None, "email": FORGOTTEN}
    renamed = {"name": "Human ann (renamed)", "email": None}
    assert payloads["HUMAN_DETAILS_CHANGED", False] == renamed
    assert {e.payload.get("name") for e in masked} <= {MASKED, None}
    # Every sealed, clear and forgotten event took the short road, shown and masked.
    sealed = [r for r in rows if b'"_personal"' in r[4]]
    assert len(sealed) >= 5
    assert all(short_road(decoder, r) is not None for r in rows if r[3] != "HUMAN_FORGOTTEN")
    assert all(
        short_road(decoder, r, personal=False) is not None
        for r in rows
        if r[3] != "HUMAN_FORGOTTEN"
    )
    # Rows that carry their keys (a log's page query reads them beside) decode the same.
    keyed, epoch = keyed_page(reader)
    assert epoch is not None
    assert sum(r[KEYED] is not None for r in keyed) == len(sealed)
    assert decoder.decode_all(keyed, keyed_at=epoch) == expected
    assert decoder.decode_all(keyed, personal=False) == [masked_event(e) for e in expected]
    assert all(
        short_road(decoder, r, keyed=True) is not None for r in keyed if r[3] != "HUMAN_FORGOTTEN"
    )
    reader.close()


def keyed_page(app: HumansApplication) -> tuple[list[Row], int | None]:
    """The whole log as a personal reader's page query reads it: each sealed row's key beside."""
    source = PostgresLog(app)
    try:
        return source._page((0, 1000, tuple(CATALOG.names), None, True))
    finally:
        source.close()


def test_keys_read_beside_rows_are_not_used_once_a_key_is_destroyed_after_the_read(
    app: HumansApplication, database_url: str
) -> None:
    human = app.register("Di", "di@example.org", HumanKind.EMPLOYEE).id
    reader = blocking_application(database_url)
    keys = reader.personal_keys
    rows, epoch = keyed_page(reader)
    app.forget(human, by="ops")
    wait_until(lambda: keys.epoch != epoch, 5, "the reader's key store hears of it")

    (registered,) = EventDecoder(reader).decode_all(rows, keyed_at=epoch)

    assert rows[0][KEYED] is not None  # the key was read with the row, before the forgetting
    assert registered.payload["name"] == FORGOTTEN
    reader.close()


def test_no_cipher_kept_by_key_outlives_the_page_after_its_key_is_destroyed(
    app: HumansApplication, database_url: str
) -> None:
    human = app.register("Di", "di@example.org", HumanKind.EMPLOYEE).id
    reader = blocking_application(database_url)
    keys = reader.personal_keys
    decoder = EventDecoder(reader)
    opener = decoder._opener
    assert opener is not None
    rows, epoch = keyed_page(reader)
    key = rows[0][KEYED]
    decoder.decode_all(rows, keyed_at=epoch)
    assert key in opener._by_key  # kept for the pages to come

    app.forget(human, by="ops")
    wait_until(lambda: keys.epoch != epoch, 5, "the reader's key store hears of it")
    decoder.decode_all(rows, keyed_at=epoch)  # the next page a reader decodes

    assert key not in opener._by_key
    reader.close()


def test_a_masked_reader_looks_up_no_key_while_a_reader_of_personal_fields_reports_a_lost_one(
    app: HumansApplication, database_url: str
) -> None:
    live_a_life(app, 1, "cy")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("DELETE FROM hot_personal_keys WHERE human_id <> %s", (UUID(int=0),))
    reader = blocking_application(database_url)
    source = PostgresLog(reader)

    masked = source.read(0, 100, personal=False)
    with pytest.raises(PersonalKeyMissingError):
        source.read(0, 100)

    assert masked[0].payload == {"name": MASKED, "email": MASKED, "kind": "employee"}
    assert [e.name for e in masked] == [e.name for e in full_log(app)]
    source.close()
    reader.close()


class DictKeys:
    """Keys in a dict, counting lookups: the key store's reading side, for ``SealOpener``."""

    def __init__(self) -> None:
        self.keys: dict[UUID, bytes | None] = {}

    def key_for_reading(self, human_id: UUID) -> bytes | None:
        return self.keys[human_id]


def test_the_opener_keeps_a_cipher_per_key_and_drops_it_when_the_key_changes_or_is_destroyed() -> (
    None
):
    keys = DictKeys()
    opener = SealOpener(cast(PersonalKeyStore, keys))
    human = UUID(int=1)
    keys.keys[human] = bytes(32)
    first = _seal(bytes(32), human, {"name": "Ann"})

    assert opener.open(human, first) == {"name": "Ann"}
    cipher = opener._ciphers[human]
    assert opener.open(human, _seal(bytes(32), human, {"name": "Ann B"})) == {"name": "Ann B"}
    assert opener._ciphers[human] is cipher  # the same cipher, across opens

    keys.keys[human] = b"\x01" * 32
    assert opener.open(human, _seal(b"\x01" * 32, human, {"name": "Cy"})) == {"name": "Cy"}
    assert opener._ciphers[human] is not cipher
    keys.keys[human] = None  # destroyed
    assert opener.open(human, first) is None
    assert human not in opener._ciphers


def _seal(key: bytes, human: UUID, values: dict[str, str]) -> bytes:
    import base64

    from hot.application.personal import _encrypt

    return base64.b64decode(_encrypt(key, human, values))


def test_a_personal_reader_reads_the_keys_of_a_page_with_its_rows(
    app: HumansApplication, database_url: str
) -> None:
    live_a_life(app, 2, "ann")
    gone = app.register("Bo", "bo@example.org", HumanKind.VISITOR).id
    app.forget(gone, by="ops")
    reader = blocking_application(database_url)  # keys not cached yet
    keys = reader.personal_keys

    def no_query_of_its_own(*args: object) -> NoReturn:
        raise AssertionError("the key store ran a query of its own")

    keys._run = no_query_of_its_own  # type: ignore[attr-defined]
    source = PostgresLog(reader)
    shown = source.read(0, 1000)

    assert shown == full_log(app)
    assert {e.payload["name"] for e in shown if e.name == "HUMAN_REGISTERED"} == {
        "Human ann",
        FORGOTTEN,
    }
    source.close()
    reader.close()
