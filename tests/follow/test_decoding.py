"""The fast decoder gives exactly the events the application's own decoding gives."""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace
from typing import cast
from uuid import UUID

import pytest
from eventsourcing.persistence import Mapper

from hot.application import CATALOG, HumansApplication
from hot.domain import HumanKind
from hot.follow import PostgresLog
from hot.follow.decoding import (
    EventDecoder,
    _DateISO,
    _payload_maker,
    _show_date,
    _stored_type,
    _UUIDHex,
)

from .conftest import TODAY, full_log, live_a_life

pytestmark = pytest.mark.postgres

LIFE = ("HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_ATTENDED", "HUMAN_DETAILS_CHANGED", "HUMAN_LEFT")


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
    rows = [
        (n.id, n.originator_id, n.originator_version, n.topic, n.state)
        for n in app.recorder.select_notifications(0, 100, topics=CATALOG.names)
    ]
    older = rows[0][4].replace(b"{", b'{"class_version":0,', 1)  # a version it must upcast

    sealed = rows[0][4].replace(b"{", b'{"_personal":{"sealed":"..."},', 1)  # an unknown key
    assert decoder._decode_plain((*rows[0][:4], older)) is None
    assert decoder._decode_plain((*rows[0][:4], sealed)) is None
    assert decoder._decode_plain((*rows[0][:4], b"not json")) is None
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
