"""Idempotency records on real PostgreSQL: a table of their own, kept with the events'
transaction, out of the log; and the records an older HoT kept as events of the log,
moved into that table once, so their retries still get the first answer."""

from __future__ import annotations

import json
from datetime import date
from uuid import UUID, uuid4

import psycopg
import pytest

from hot.application.envelopes import Envelope
from hot.application.idempotency import IdempotencyKey
from hot.domain import HumanKind, IdempotencyKeyReusedError
from hot.infra.idempotency_records import LEGACY_TOPIC, RECORDS_TABLE
from tests.blocking import opened_application

pytestmark = pytest.mark.postgres


def _attend(human: UUID, on: str, envelope_id: UUID | None = None) -> Envelope:
    return Envelope(envelope_id or uuid4(), "HUMAN_ATTENDED", 1, {"human_id": str(human), "on": on})


def _member(app: object) -> UUID:
    human: UUID = app.register("Hari Seldon", "hari@streeling.test", HumanKind.EMPLOYEE).id  # type: ignore[attr-defined]
    app.join(human, date(2020, 1, 1), "psychohistorian")  # type: ignore[attr-defined]
    return human


def test_a_record_is_a_row_of_its_own_table_and_no_event_of_the_log(database_url: str) -> None:
    with opened_application(database_url) as app:
        human = _member(app)
        first = app.record(_attend(human, "2020-01-02"))
        app.attend(human, date(2020, 1, 3), idempotency=IdempotencyKey("k-1", "fp"))

    with psycopg.connect(database_url) as conn:
        records = conn.execute(
            f"SELECT human_id, human_version FROM {RECORDS_TABLE} ORDER BY human_version"
        ).fetchall()
        topics = {t for (t,) in conn.execute("SELECT DISTINCT topic FROM hot_events")}
    assert records == [(human, first.version), (human, first.version + 1)]
    assert LEGACY_TOPIC not in topics
    assert all(not t.startswith("hot:IDEMPOTENCY") for t in topics)


def test_records_kept_in_the_log_by_an_older_hot_still_answer_their_retries(
    database_url: str,
) -> None:
    envelope_id = uuid4()
    with opened_application(database_url) as app:
        human = _member(app)
        first = app.record(_attend(human, "2020-01-02", envelope_id))
    # As an older HoT left it: the record an event of the log, and no table.
    with psycopg.connect(database_url) as conn:
        record_id, fingerprint, version, at = conn.execute(
            f"SELECT id, fingerprint, human_version, recorded_at FROM {RECORDS_TABLE}"
        ).fetchone()  # type: ignore[misc]
        conn.execute(f"DROP TABLE {RECORDS_TABLE}")
        state = {
            "timestamp": {"_type_": "datetime_iso", "_data_": at.isoformat()},
            "originator_topic": "hot:IdempotencyRecord",
            "fingerprint": fingerprint,
            "human_id": {"_type_": "uuid_hex", "_data_": human.hex},
            "human_version": version,
        }
        conn.execute(
            "INSERT INTO hot_events (originator_id, originator_version, topic, state) "
            "VALUES (%s, 1, %s, %s)",
            (record_id, LEGACY_TOPIC, json.dumps(state, separators=(",", ":")).encode()),
        )

    with opened_application(database_url) as app:  # the table made from the log
        again = app.record(_attend(human, "2020-01-02", envelope_id))
        with pytest.raises(IdempotencyKeyReusedError):
            app.record(_attend(human, "2020-01-05", envelope_id))  # another body, same id
        assert app.get_human(human).version == first.version  # nothing recorded again

    assert (again.id, again.version, again.position) == (human, first.version, first.position)
    assert again.already_recorded
    with psycopg.connect(database_url) as conn:
        migrated = conn.execute(
            f"SELECT id, fingerprint, human_id, human_version, recorded_at FROM {RECORDS_TABLE}"
        ).fetchall()
    assert migrated == [(record_id, fingerprint, human, version, at)]
