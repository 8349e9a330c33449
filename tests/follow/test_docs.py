"""The example of docs/following.md runs, and builds what it says it builds."""

from __future__ import annotations

import re
import sqlite3
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.relay import Relay
from hot.infra.sql_read.projector import SqlReadProjector
from hot_follow import Feed, ProjectionRunner, SqliteProjectionStore
from tests.conftest import SqlReader
from tests.event_log import TODAY
from tests.waiting import wait_until

from .conftest import running

GUIDE = Path(__file__).parents[2] / "docs" / "following.md"


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", GUIDE.read_text(), flags=re.DOTALL)


def test_every_python_block_of_the_guide_compiles() -> None:
    blocks = python_blocks()
    assert len(blocks) >= 2
    for block in blocks:
        compile(block, str(GUIDE), "exec")


@pytest.mark.postgres
@pytest.mark.redis
def test_the_members_example_keeps_who_is_a_member(
    app: HumansApplication,
    sql_reader: SqlReader,
    projector: SqlReadProjector,
    relay: Relay,
    redis_server_url: str,
    redis_prefix: str,
    tmp_path: Path,
) -> None:
    """As the guide runs it: as a SQL reader, following ``hot_read`` then Redis."""
    example: dict[str, Any] = {"__name__": "members"}
    exec(python_blocks()[0], example)
    day = TODAY - timedelta(days=30)
    stays = app.register("Ann", "ann@example.org", HumanKind.EMPLOYEE).id
    goes = app.register("Bo", "bo@example.org", HumanKind.CONTRACTOR).id
    app.join(stays, day, "engineer")
    app.join(goes, day, "designer")
    app.leave(goes, day + timedelta(days=3))

    feed = Feed.connect(sql_reader.url, redis_server_url, prefix=redis_prefix)
    runner = ProjectionRunner(example["Members"](), SqliteProjectionStore(tmp_path / "m.db"), feed)
    try:
        with running(runner):
            wait_until(lambda: runner.position() == app.head(), 10, "caught up")
            app.join(goes, day + timedelta(days=10), "designer")  # back, followed live
            wait_until(lambda: runner.position() == app.head(), 10, "followed")
    finally:
        feed.close()
    members = sqlite3.connect(tmp_path / "m.db").execute("SELECT * FROM members").fetchall()
    assert sorted(members) == sorted([(str(stays), "engineer"), (str(goes), "designer")])
