"""The attendance app, ``packages/hot-attendance``, as another team installs and runs it.

It imports nothing of HoT but ``hot_follow``, installs into a fresh virtual environment
without HoT's server, and its script, ``hot-attendance``, follows a live HoT with a
role made by ``hot sql-access create`` (history from ``hot_read``, then Redis), its
tables in a database of its own; over the API, a ``personal`` token shows names.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import tomllib
from datetime import timedelta
from pathlib import Path

import pytest

from hot.application import HumansApplication
from hot.infra.relay import Relay
from hot.infra.sql_read.projector import SqlReadProjector
from hot_follow import MASKED
from tests.conftest import SqlReader
from tests.event_log import TODAY, live_a_life
from tests.fresh_venv import PACKAGES, fresh_python, installed_server_modules
from tests.processes import KillableProcess
from tests.waiting import wait_until

from .attendance_model import actual_tables, expected_tables, stored_position
from .conftest import full_log

PACKAGE = PACKAGES / "hot-attendance"
MONTH = f"{TODAY - timedelta(days=13):%Y-%m}"  # the first day of live_a_life(app, 3, ...)


@pytest.fixture(scope="module")
def attendance_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtual environment with only the light packages installed."""
    return fresh_python(tmp_path_factory.mktemp("attendance"), "hot-follow", "hot-attendance")


def test_it_depends_on_hot_follow_click_and_prometheus_client_only() -> None:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]

    names = {re.split(r"[\[<>=~! ;]", need, maxsplit=1)[0] for need in project["dependencies"]}
    assert names == {"hot-follow", "click", "prometheus-client"}
    assert project["scripts"] == {"hot-attendance": "hot_attendance.cli:main"}


def imported_modules(path: Path) -> set[str]:
    """The modules a source file imports (absolute ones; relative ones as written)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def test_it_imports_nothing_of_hot_but_hot_follow() -> None:
    sources = sorted((PACKAGE / "src" / "hot_attendance").glob("*.py"))
    imported = set().union(*map(imported_modules, sources))

    assert len(sources) >= 5
    assert "hot_follow" in imported
    assert {m.split(".")[0] for m in imported} <= {
        "__future__",
        *sys.stdlib_module_names,
        "click",
        "psycopg",
        "prometheus_client",
        "hot_follow",
        "hot_attendance",
    }


def test_it_installs_without_hots_server(attendance_python: Path) -> None:
    assert installed_server_modules(attendance_python) == []
    assert (attendance_python.parent / "hot-attendance").exists()


def run(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    script = str(python.parent / "hot-attendance")
    return subprocess.run([script, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.postgres
@pytest.mark.redis
def test_it_follows_a_live_hot_as_a_sql_reader_into_a_database_of_its_own(
    attendance_python: Path,
    app: HumansApplication,
    sql_reader: SqlReader,
    projector: SqlReadProjector,
    relay: Relay,
    redis_server_url: str,
    redis_prefix: str,
    attendance_database_url: str,
) -> None:
    live_a_life(app, 3, "before")
    script = str(attendance_python.parent / "hot-attendance")
    options = ["--attendance-database-url", attendance_database_url]
    source = ["--read-url", sql_reader.url, "--redis-url", redis_server_url]
    with KillableProcess([script, *options, *source, "--prefix", redis_prefix]) as process:
        process.start()
        process.wait_for_output("following from position", 30, "it follows")
        live_a_life(app, 3, "after")  # live, through hot_read's lag and Redis
        head = full_log(app)[-1].position
        wait_until(lambda: stored_position(attendance_database_url) == head, 30, "caught up")
        assert process.terminate(15) == 0

    tables = actual_tables(attendance_database_url)
    assert tables == expected_tables(full_log(app, personal=False))
    assert {name for _, name in tables["attendance_humans"]} == {MASKED}
    report = run(attendance_python, *options, "report", "--month", MONTH)
    assert report.returncode == 0, report.stderr
    assert f"Attendance in {MONTH}" in report.stdout
    assert "(personal)" in report.stdout


@pytest.mark.postgres
def test_over_the_api_a_personal_token_shows_names(
    attendance_python: Path,
    app: HumansApplication,
    personal_api: tuple[str, str],
    attendance_database_url: str,
) -> None:
    live_a_life(app, 3, "named")
    url, token = personal_api
    options = ["--attendance-database-url", attendance_database_url]

    rebuilt = run(attendance_python, *options, "--api-url", url, "--token", token, "--rebuild")
    report = run(attendance_python, *options, "report", "--month", MONTH)

    assert rebuilt.returncode == 0, rebuilt.stderr
    assert actual_tables(attendance_database_url) == expected_tables(full_log(app))
    assert report.returncode == 0, report.stderr
    assert "Human named (renamed)" in report.stdout
