"""``hot_read``: the public log and each human's state, as a SQL reader sees them.

Every test reads through a role made by ``hot sql-access create``: what the contract
promises is what such a role gets.
"""

from __future__ import annotations

import json
import uuid
from datetime import date
from typing import Any
from uuid import UUID

import psycopg
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.relay.source import EventLog
from hot.infra.sql_read.projector import (
    PositionMovedError,
    SqlReadProjector,
    write_page,
)
from hot_follow.representation import MASKED, rfc3339
from tests.conftest import SqlReader
from tests.event_log import team_life
from tests.plaintext import plaintext_anywhere
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

NAME, EMAIL, REASON = "Salvor Hardin", "salvor@terminus.example", "mayor of Terminus"
LIFE = 13 + 6  # the public events ``lives`` records: the humans', and a team's type's


def lives(app: Any) -> list[UUID]:
    """Three humans: one with a whole life (details changed, left with a reason, came
    back), one forgotten after a life, one registered only."""
    tag = uuid.uuid4().hex[:8]  # each call's emails its own
    salvor = app.register(NAME, f"salvor.{tag}@terminus.example", HumanKind.EMPLOYEE).id
    app.join(salvor, date(2020, 1, 1), "mayor")
    app.attend(salvor, date(2020, 1, 2))
    app.attend(salvor, date(2020, 1, 3))
    app.change_details(salvor, name="Salvor H.", email=f"hardin.{tag}@terminus.example")
    app.leave(salvor, date(2020, 2, 1), REASON)
    app.join(salvor, date(2020, 3, 1), "councilman")
    team_life(app, salvor, tag)  # a team's type, and its events about Salvor
    forgotten = app.register("Lewis Pirenne", f"pirenne.{tag}@x.example", HumanKind.VISITOR).id
    app.join(forgotten, date(2020, 1, 1), "encyclopedist")
    app.attend(forgotten, date(2020, 1, 5))
    app.leave(forgotten, date(2020, 1, 9), "back to Trantor")
    app.forget(forgotten, by="test")
    visitor = app.register("Jord Fara", f"fara.{tag}@x.example", HumanKind.CONTRACTOR).id
    return [salvor, forgotten, visitor]


def select(url: str, query: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
    with psycopg.connect(url) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(query, params).fetchall()


def as_api_shows(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``hot_read.events`` in the representation ``GET /events`` answers."""
    return {
        **row,
        "id": str(row["id"]),
        "subject": str(row["subject"]),
        "time": rfc3339(row["time"]),
    }


def test_events_are_get_events_for_a_reader_without_personal(
    app: HumansApplication,
    database_url: str,
    reader_api: TestClient[Litestar],
    sql_reader: SqlReader,
) -> None:
    lives(app)

    SqlReadProjector(app, database_url).catch_up()
    rows = select(sql_reader.url, "SELECT * FROM hot_read.events ORDER BY position")
    answered = reader_api.get("/events", params={"limit": 10_000}).json()["events"]

    assert len(rows) == LIFE
    assert [as_api_shows(row) for row in rows] == answered
    names = {row["name"] for row in rows}
    assert names >= {"HUMAN_FORGOTTEN", "HUMAN_DETAILS_CHANGED", "EVENT_TYPE_REGISTERED"}
    team = [row for row in rows if row["name"].startswith("RECEIVED_STANDUP_UPDATE")]
    assert [row["payload"]["ecode"] for row in team] == [MASKED, MASKED]


@pytest.mark.parametrize("page", [2, 2000])  # rows kept from page to page, or one page
def test_humans_are_get_human_without_personal_fields(
    app: HumansApplication,
    database_url: str,
    reader_api: TestClient[Litestar],
    sql_reader: SqlReader,
    page: int,
) -> None:
    humans = lives(app)

    SqlReadProjector(app, database_url, batch_size=page).catch_up()
    rows = {
        row["id"]: row
        for row in select(sql_reader.url, "SELECT * FROM hot_read.humans ORDER BY id")
    }

    assert set(rows) == set(humans)
    for human_id in humans:
        shown = reader_api.get(f"/humans/{human_id}").json()
        row = rows[human_id]
        days = [
            r["day"]
            for r in select(
                sql_reader.url,
                "SELECT payload->>'on' AS day FROM hot_read.events "
                "WHERE subject = %s AND name = 'HUMAN_ATTENDED' ORDER BY sequence",
                (human_id,),
            )
        ]
        assert {
            "id": str(row["id"]),
            "version": row["version"],
            "kind": row["kind"],
            "status": row["status"],
            "memberships": row["memberships"],
            "attended_days": days,
        } == {k: v for k, v in shown.items() if k not in ("name", "email", "external_ids")}
        assert row["attended_count"] == len(days)
        assert row["last_attended_on"] == (date.fromisoformat(days[-1]) if days else None)
        assert row["forgotten"] is (human_id == humans[1])
        last = select(
            sql_reader.url,
            "SELECT position, time FROM hot_read.events WHERE subject = %s "
            "ORDER BY sequence DESC LIMIT 1",
            (human_id,),
        )[0]
        assert (row["position"], row["modified_at"]) == (last["position"], last["time"])


def test_a_forgotten_human_s_personal_data_is_nowhere_in_hot_read(
    app: HumansApplication, database_url: str
) -> None:
    salvor = app.register(NAME, EMAIL, HumanKind.EMPLOYEE).id
    app.join(salvor, date(2020, 1, 1), "mayor")
    app.change_details(salvor, name="Salvor Terminus", email="mayor@terminus.example")
    app.leave(salvor, date(2020, 2, 1), REASON)
    projector = SqlReadProjector(app, database_url)
    needles = ("Salvor", "Hardin", "salvor@", "mayor@", "Terminus", REASON)

    projector.catch_up()
    during_life = _in_hot_read(plaintext_anywhere(database_url, *needles))
    app.forget(salvor, by="test")
    projector.catch_up()

    assert during_life == []
    assert _in_hot_read(plaintext_anywhere(database_url, *needles)) == []
    assert plaintext_anywhere(database_url, *needles) == []  # nor anywhere else
    forgotten = select(
        database_url, "SELECT forgotten FROM hot_read.humans WHERE id = %s", (salvor,)
    )
    assert forgotten == [{"forgotten": True}]


def test_the_projector_follows_commits_and_reports_its_lag(
    app: HumansApplication, database_url: str, sql_reader: SqlReader
) -> None:
    lives(app)
    log = EventLog(app, personal=False)
    projector = SqlReadProjector(app, database_url, poll_interval=0.2).start()
    try:
        wait_until(lambda: projector.status().position == log.head(), 30, "caught up")
        salvor = app.register("Hober Mallow", "mallow@korell.example", HumanKind.EMPLOYEE).id
        app.join(salvor, date(2021, 1, 1), "trader")
        wait_until(lambda: projector.status().position == log.head(), 30, "followed")
        status = projector.status()
        with ApiKeyStore(database_url) as api_keys:
            api = create_app(app, api_keys, sql_read_status=projector.status)
            with TestClient(api) as client:
                ready = client.get("/health/ready")
    finally:
        projector.stop()

    assert (status.state, status.lag, status.caught_up) == ("active", 0, True)
    assert ready.status_code == 200
    check = ready.json()["checks"]["sql_read"]
    assert check["ok"] is True
    assert (check["info"]["position"], check["info"]["lag"]) == (log.head(), 0)
    rows = select(sql_reader.url, "SELECT status FROM hot_read.humans WHERE id = %s", (salvor,))
    assert rows == [{"status": "member"}]
    assert projector.status().state == "stopped"


def test_one_projector_projects_the_others_stand_by_and_nothing_is_written_twice(
    app: HumansApplication, database_url: str
) -> None:
    projectors = [
        SqlReadProjector(app, database_url, poll_interval=0.1, takeover_interval=0.1).start()
        for _ in range(3)
    ]
    log = EventLog(app, personal=False)
    try:
        for _ in range(3):
            lives(app)
        wait_until(
            lambda: any(p.status().position == log.head() for p in projectors), 30, "projected"
        )
        states = sorted(p.status().state for p in projectors)
        projectors[states.index("active")].stop()  # the others take over
        lives(app)
        wait_until(
            lambda: any(
                p.status().state == "active" and p.status().position == log.head()
                for p in projectors
            ),
            30,
            "taken over",
        )
    finally:
        for projector in projectors:
            projector.stop()

    assert states == ["active", "standby", "standby"]
    count = select(database_url, "SELECT count(*) AS n FROM hot_read.events")[0]["n"]
    assert count == len(log.read(0, 10_000)) == 4 * LIFE


def test_a_page_is_written_only_where_hot_read_stands(
    app: HumansApplication, database_url: str
) -> None:
    lives(app)
    events = EventLog(app, personal=False).read(0, 100)

    with psycopg.connect(database_url, autocommit=True) as conn:
        write_page(conn, events[:5], 0)
        with pytest.raises(PositionMovedError):
            write_page(conn, events[5:], 0)  # as if another projector wrote meanwhile
        write_page(conn, events[5:], events[4].position)

    positions = select(database_url, "SELECT position FROM hot_read.events ORDER BY position")
    assert [row["position"] for row in positions] == [event.position for event in events]


def test_queries_by_name_and_time_and_by_subject_use_an_index(
    database_url: str, sql_reader: SqlReader
) -> None:
    names = ["HUMAN_ATTENDED", "HUMAN_JOINED", "HUMAN_LEFT", "HUMAN_REGISTERED"]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(  # 200,000 events over about two years, of 2,000 humans
            "INSERT INTO hot_read.events SELECT n, gen_random_uuid(), (%s::text[])[1 + n %% 4], "
            "1, ('00000000-0000-0000-0000-' || lpad((n %% 2000)::text, 12, '0'))::uuid, n, "
            "'2024-01-01'::timestamptz + n * interval '5 minutes', '{}' "
            "FROM generate_series(1, 200000) AS n",
            (names,),
        )
        conn.execute("ANALYZE hot_read.events")
    by_name_and_time = (
        "SELECT * FROM hot_read.events WHERE name = 'HUMAN_ATTENDED' "
        "AND time >= '2024-03-01' AND time < '2024-03-08'"
    )
    by_subject = (
        "SELECT * FROM hot_read.events WHERE subject = '00000000-0000-0000-0000-000000000042' "
        "ORDER BY sequence"
    )

    for query in (by_name_and_time, by_subject):
        plan = select(sql_reader.url, f"EXPLAIN (FORMAT JSON) {query}")[0]["QUERY PLAN"]
        assert "Index" in json.dumps(plan), plan


def _in_hot_read(columns: list[str]) -> list[str]:
    return [column for column in columns if column.startswith("hot_read.")]
