"""``hot migrate`` seals data stored in clear; ``hot forget`` forgets from the command line."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from eventsourcing.persistence import Mapper

from hot.application import HumansApplication
from hot.application.team_storage import TeamEventsMapper
from hot.domain import FORGOTTEN, EmailTakenError, HumanKind
from hot.infra.database import eventsourcing_env
from hot.infra.migrate import migrate, pending
from hot.infra.personal_keys import PostgresPersonalKeyStore
from tests.blocking import Blocking, blocking_application
from tests.plaintext import plaintext_anywhere

pytestmark = pytest.mark.postgres


class ClearApplication(HumansApplication):
    """HoT as it stored events before personal data was sealed."""

    name = "hot"  # the same tables as HumansApplication (eventsourcing names them so)

    def construct_mapper(self) -> Mapper:  # type: ignore[type-arg]
        return TeamEventsMapper(self.construct_transcoder())  # no sealing


def test_migration_seals_clear_events_and_is_resumable(database_url: str) -> None:
    personal_keys = PostgresPersonalKeyStore(database_url)
    old = Blocking(
        ClearApplication(
            env=eventsourcing_env(database_url), personal_keys=personal_keys, claim_secret=b"legacy"
        )
    )
    human = old.register("Salvor Hardin", "salvor@terminus.test", HumanKind.EMPLOYEE).id
    old.join(human, date(2020, 1, 1), "mayor")
    old.leave(human, date(2021, 1, 1), "elected elsewhere")
    old.close()
    assert plaintext_anywhere(database_url, "Salvor") != []

    app = blocking_application(database_url)
    assert pending(app) == 2
    done: list[int] = []
    report = migrate(app, done.append)

    assert (report.events_sealed, report.claims_rekeyed) == (2, 1)
    assert sum(done) == 2
    assert pending(app) == 0
    assert migrate(app).events_sealed == 0  # run again: nothing left to do
    assert plaintext_anywhere(database_url, "Salvor", "terminus", "elected") == []
    assert app.get_human(human).name == "Salvor Hardin"
    with pytest.raises(EmailTakenError):
        app.register("Impostor", "SALVOR@terminus.test", HumanKind.VISITOR)
    app.close()


def test_hot_forget_forgets_from_the_command_line(database_url: str, tmp_path: Path) -> None:
    app = blocking_application(database_url)
    human = app.register("Bel Riose", "bel@empire.test", HumanKind.EMPLOYEE).id
    env = {**os.environ, "HOT_DATABASE_URL": database_url, "HOT_DATA_DIR": str(tmp_path)}

    done = subprocess.run(
        [sys.executable, "-m", "hot.cli", "forget", str(human), "--by", "dpo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    again = subprocess.run(
        [sys.executable, "-m", "hot.cli", "forget", str(human)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert f"forgotten: {human}" in done.stdout
    assert again.returncode == 1
    assert "was forgotten" in again.stderr
    assert app.get_human(human).name == FORGOTTEN
    assert app.history(human)[-1].payload == {"by": "dpo"}
    app.close()
