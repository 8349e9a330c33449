"""A follower's reader of the PostgreSQL log: pages of some names up to a position, and
personal fields shown with the keys read beside the rows, or masked with no key at all."""

from __future__ import annotations

from typing import NoReturn
from uuid import UUID

import psycopg
import pytest

from hot.application import HumansApplication
from hot.application.personal import PersonalKeyMissingError
from hot.domain import FORGOTTEN, HumanKind
from hot.infra.postgres_log import PostgresLog
from hot_follow.representation import MASKED
from tests.blocking import blocking_application
from tests.event_log import library_log, live_a_life

from .conftest import full_log

pytestmark = pytest.mark.postgres


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
    source.close()


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

    assert shown == library_log(app)
    assert {e.payload["name"] for e in shown if e.name == "HUMAN_REGISTERED"} == {
        "Human ann",
        FORGOTTEN,
    }
    source.close()
    reader.close()
