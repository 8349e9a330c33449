"""``hot_read``'s projector outliving a real PostgreSQL crash: its pages commit without
waiting for the disk (``synchronous_commit = off``), so a crash may take back the last
of them, rows and position together; the projector goes on from the stored position,
and ``hot_read`` equals the log, each event once."""

from __future__ import annotations

import time

import psycopg
import pytest

from hot.application import HumansApplication
from hot.infra.relay.source import EventLog
from hot.infra.sql_read.projector import SqlReadProjector
from hot.infra.sql_read.schema import read_position
from tests.blocking import blocking_application
from tests.integration.relay_fixtures import retried, write_humans
from tests.processes import KillablePostgres
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


def stored_position(url: str) -> int:
    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=2) as conn:
            return read_position(conn)
    except psycopg.OperationalError:
        return -1  # not up yet


def test_the_projector_goes_on_after_postgresql_crashes_mid_backlog(
    killable_postgres: KillablePostgres,
) -> None:
    url = killable_postgres.url
    app: HumansApplication = blocking_application(url)
    projector = SqlReadProjector(app, url, batch_size=50, poll_interval=0.1, backoff=0.2)
    try:
        for n in range(20):
            write_humans(app, 50, joining=25, tag=f"before-{n}")
        head = EventLog(app, personal=False).head()
        projector.start()
        wait_until(lambda: stored_position(url) > 0, 30, "the projector has begun")
        killable_postgres.kill()  # while it projects the backlog, page after page
        time.sleep(1.0)
        killable_postgres.start()
        retried(lambda: write_humans(app, 50, joining=25, tag="after"))
        head = EventLog(app, personal=False).head()
        wait_until(lambda: stored_position(url) == head, 60, "hot_read caught up")
        wait_until(lambda: projector.status().state == "active", 30, "the projector is active")
    finally:
        projector.stop()

    public = EventLog(app, personal=False).read(0, 100_000)
    with psycopg.connect(url) as conn:
        rows = conn.execute("SELECT position, id FROM hot_read.events ORDER BY position").fetchall()
        humans = conn.execute("SELECT id, version FROM hot_read.humans").fetchall()
    app.close()
    assert [(e.position, e.id) for e in public] == [(p, i) for p, i in rows]
    versions: dict[object, int] = {}
    for event in public:
        if event.name.startswith("HUMAN_"):
            versions[event.subject] = event.sequence
    assert dict(humans) == versions
