"""The decoder gives exactly the events ``eventsourcing``'s own decoding gives, on a
real log: every event name, sealed, clear and forgotten fields, shown and masked, with
the keys of the store or the keys a page's query read beside its rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import NamedTuple

import pytest

from hot.application import CATALOG, HumansApplication
from hot.application.decoding import EventDecoder
from hot.application.ports import PageRequest
from hot.application.stored_states import StateSchema
from hot.domain import FORGOTTEN, HumanKind
from hot.infra.log_pages import LogPages, Page
from hot.infra.postgres_log import PostgresLog
from hot.infra.relay.source import EventLog
from tests.blocking import blocking_application
from tests.event_log import TODAY, library_log, live_a_life, rows_of, team_life
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

LIFE = ("HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_ATTENDED", "HUMAN_DETAILS_CHANGED", "HUMAN_LEFT")

TAG = "LOG"  # the name of the team type each life registers ends so


def test_every_event_name_decodes_as_the_library_decodes_it_in_every_reader(
    app: HumansApplication,
) -> None:
    live_a_life(app, 3, "ann")
    other = app.register("Bo", "bo@example.org", HumanKind.VISITOR).id
    app.join(other, TODAY - timedelta(days=3), "guest")
    app.leave(other, TODAY, None)  # a null reason
    app.change_details(other, email="bo2@example.org")  # a null name
    app.set_external_id(other, "ecode", "E-bo")
    team_life(app, other, TAG)  # whose personal field is forgotten next
    app.forget(other, by="ops")

    expected = library_log(app)
    source = PostgresLog(app)
    readers = {
        "decoder": app.decoder.decode(rows_of(app)),
        "read_log": list(app.read_log(limit=1000).events),
        "history": [e for h in {e.subject for e in expected} for e in app.history(h)],
        "follower": source.read(0, 1000),
        "relay": EventLog(app).read(0, 1000),
    }
    source.close()

    # Every built-in name, and a team's
    assert {e.name for e in expected} - set(CATALOG.names) == {f"RECEIVED_STANDUP_UPDATE_{TAG}"}
    assert {e.name for e in expected} >= set(CATALOG.names)
    for reader, found in readers.items():
        found.sort(key=lambda e: e.position)
        assert found == expected, reader
        assert [list(e.payload) for e in found] == [list(e.payload) for e in expected]  # order
        assert all(
            type(a.time) is type(b.time) and a.time.tzinfo == b.time.tzinfo
            for a, b in zip(found, expected, strict=True)
        )
    assert EventLog(app, personal=False).read(0, 1000) == library_log(app, personal=False)


def test_sealed_clear_and_forgotten_fields_decode_as_the_library_decodes_them_shown_or_masked(
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
    app.set_external_id(gone, "ecode", "E-gone")
    app.forget(gone, by="ops")
    reader = blocking_application(database_url)  # keys not cached yet

    expected = library_log(reader)
    decoder = EventDecoder(personal_keys=reader.personal_keys)
    rows = rows_of(reader)
    shown = decoder.decode(rows)
    masked = decoder.decode(rows, personal=False)

    assert shown == expected
    assert masked == library_log(reader, personal=False)
    assert [list(e.payload) for e in masked] == [list(e.payload) for e in expected]
    payloads = {(e.name, e.subject == gone): e.payload for e in shown}
    assert payloads["HUMAN_REGISTERED", True] == {
        "name": FORGOTTEN,
        "email": FORGOTTEN,
        "kind": "visitor",
    }
    assert payloads["HUMAN_DETAILS_CHANGED", True] == {"name": None, "email": FORGOTTEN}
    assert payloads["HUMAN_EXTERNAL_ID_SET", True] == {"scheme": "ecode", "value": FORGOTTEN}
    renamed = {"name": "Human ann (renamed)", "email": None}
    assert payloads["HUMAN_DETAILS_CHANGED", False] == renamed
    assert {e.payload.get("name") for e in masked} <= {"(personal)", None}
    # Every sealed, clear and forgotten state is read by its name's schema, shown and
    # masked: none needs upcasting.
    sealed = [r for r in rows if b'"_personal"' in r.state]
    assert len(sealed) >= 6
    for row in rows:
        schema = StateSchema(CATALOG[row.name])
        for opens in (True, False):
            assert schema.decoders[opens](row.state).class_version == 1
    # Rows that carry their keys (a page's query reads them beside) decode the same.
    keyed = keyed_page(reader)
    assert keyed.keys_read_at is not None
    assert sum(r.personal_key is not None for r in keyed.rows) == len(sealed)
    assert decoder.decode(keyed.rows, keys_read_at=keyed.keys_read_at) == expected
    assert decoder.decode(keyed.rows, personal=False) == library_log(reader, personal=False)
    reader.close()


def keyed_page(app: HumansApplication) -> Page:
    """The whole log as a personal reader's page query reads it: each sealed row's key beside."""
    return LogPages.on(app).fetch(PageRequest(0, 1000, CATALOG.names))


class Reading(NamedTuple):
    """A reader's application, a page it read with the keys beside, and the forgetting
    of the page's human by another process (once its key store has heard of it)."""

    reader: HumansApplication
    page: Page
    forget: Callable[[], None]


@pytest.fixture
def reading(app: HumansApplication, database_url: str) -> Iterator[Reading]:
    human = app.register("Di", "di@example.org", HumanKind.EMPLOYEE).id
    reader = blocking_application(database_url)
    page = keyed_page(reader)

    def forget() -> None:
        app.forget(human, by="ops")
        epoch = page.keys_read_at
        wait_until(lambda: reader.personal_keys.epoch != epoch, 5, "the reader hears of it")

    yield Reading(reader, page, forget)
    reader.close()


def test_keys_read_beside_rows_are_not_used_once_a_key_is_destroyed_after_the_read(
    reading: Reading,
) -> None:
    reading.forget()
    decoder = EventDecoder(personal_keys=reading.reader.personal_keys)
    rows = reading.page.rows

    (registered,) = decoder.decode(rows, keys_read_at=reading.page.keys_read_at)

    assert rows[0].personal_key  # the key was read with the row, before the forgetting
    assert registered.payload["name"] == FORGOTTEN


def test_no_cipher_kept_by_key_outlives_the_page_after_its_key_is_destroyed(
    reading: Reading,
) -> None:
    decoder = EventDecoder(personal_keys=reading.reader.personal_keys)
    opener = decoder._opener
    assert opener is not None
    rows, epoch = reading.page
    key = rows[0].personal_key
    decoder.decode(rows, keys_read_at=epoch)
    assert key in opener._by_key  # kept for the pages to come

    reading.forget()
    decoder.decode(rows, keys_read_at=epoch)  # the next page a reader decodes

    assert key not in opener._by_key
