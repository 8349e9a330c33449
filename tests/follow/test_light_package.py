"""The light package, ``packages/hot-follow``, as another team installs and runs it.

It installs into a fresh virtual environment (``uv venv``, then the workspace member)
without HoT's server, and its example, run by that environment's Python, prints what
a SQL reader may see (history from ``hot_read``, then live from Redis) and, over the
API with a ``personal`` token, the personal fields too.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import threading
import tomllib
from pathlib import Path
from typing import IO, Any

import pytest

from hot.application import HumansApplication
from hot.infra.relay import Relay
from hot.infra.sql_read.projector import SqlReadProjector
from hot_follow.representation import event_to_dict
from tests.conftest import SqlReader
from tests.event_log import live_a_life
from tests.fresh_venv import fresh_python, installed_server_modules
from tests.waiting import wait_until

from .conftest import full_log, wait_projected

REPO = Path(__file__).parents[2]
PACKAGE = REPO / "packages" / "hot-follow"
EXAMPLE = PACKAGE / "examples" / "print_events.py"


@pytest.fixture(scope="module")
def light_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The Python of a fresh virtual environment with only ``hot-follow`` installed."""
    return fresh_python(tmp_path_factory.mktemp("light"), "hot-follow")


def test_it_depends_on_psycopg_redis_httpx_and_msgspec_only() -> None:
    project = tomllib.loads((PACKAGE / "pyproject.toml").read_text())["project"]

    names = {re.split(r"[\[<>=~! ;]", need, maxsplit=1)[0] for need in project["dependencies"]}
    assert names == {"psycopg", "redis", "httpx", "msgspec"}


def test_every_python_block_of_its_readme_compiles() -> None:
    readme = PACKAGE / "README.md"
    blocks = re.findall(r"```python\n(.*?)```", readme.read_text(), flags=re.DOTALL)

    assert blocks
    for block in blocks:
        compile(block, str(readme), "exec")


def run_python(python: Path, code: str) -> str:
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout


def test_it_installs_without_hots_server(light_python: Path) -> None:
    where = run_python(  # each name it exports imports
        light_python,
        "import hot_follow\n"
        "exported = [getattr(hot_follow, name) for name in hot_follow.__all__]\n"
        "print(hot_follow.__file__)",
    )

    assert installed_server_modules(light_python) == []
    assert "site-packages" in where  # installed, not HoT's sources on the path


def run_example(python: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(python), str(EXAMPLE), *args], capture_output=True, text=True, timeout=120
    )


def printed(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines()]


def lives(app: HumansApplication, tag: str, count: int = 3) -> None:
    for n in range(count):
        live_a_life(app, 3, f"{tag}-{n}")


@pytest.mark.postgres
def test_the_example_prints_what_a_sql_reader_sees(
    light_python: Path, app: HumansApplication, sql_reader: SqlReader, projector: SqlReadProjector
) -> None:
    lives(app, "history")
    app.forget(full_log(app, ("HUMAN_REGISTERED",))[0].subject, by="dpo@example.org")
    wait_projected(projector, full_log(app)[-1].position)

    every = run_example(light_python, "--database-url", sql_reader.url, "--caught-up")
    joins = run_example(
        light_python, "--database-url", sql_reader.url, "--names", "HUMAN_JOINED", "--caught-up"
    )

    assert every.returncode == 0, every.stderr
    assert printed(every.stdout) == [event_to_dict(e) for e in full_log(app, personal=False)]
    assert joins.returncode == 0, joins.stderr
    assert printed(joins.stdout) == [
        event_to_dict(e) for e in full_log(app, ("HUMAN_JOINED",), personal=False)
    ]


def test_the_example_refuses_a_misspelt_name_saying_so(light_python: Path) -> None:
    refused = run_example(
        light_python,
        "--database-url",
        "postgresql://nobody@127.0.0.1:1/none",
        "--names",
        "HUMAN_JOIND",
        "--caught-up",
    )

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "print_events:" in refused.stderr
    assert "HUMAN_JOIND" in refused.stderr


class Lines(threading.Thread):
    """The lines a process prints, as they come."""

    def __init__(self, stream: IO[str]) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.lines: list[str] = []

    def run(self) -> None:
        for line in self.stream:
            self.lines.append(line)


@pytest.mark.postgres
@pytest.mark.redis
def test_the_example_catches_up_then_follows_live(
    light_python: Path,
    app: HumansApplication,
    sql_reader: SqlReader,
    projector: SqlReadProjector,
    relay: Relay,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    lives(app, "before")
    args = ["--database-url", sql_reader.url, "--redis-url", redis_server_url]
    example = subprocess.Popen(
        [str(light_python), str(EXAMPLE), *args, "--prefix", redis_prefix],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert example.stdout is not None
    out = Lines(example.stdout)
    out.start()
    try:
        history = len(full_log(app))
        wait_until(lambda: len(out.lines) >= history, 30, "the history printed")
        lives(app, "after")  # followed live, through hot_read's lag and Redis
        expected = [event_to_dict(e) for e in full_log(app, personal=False)]
        wait_until(lambda: len(out.lines) >= len(expected), 30, "the new events printed")
    finally:
        example.send_signal(signal.SIGTERM)
        code = example.wait(30)
    out.join(10)

    assert code == 0, example.stderr.read() if example.stderr else ""
    assert printed("".join(out.lines)) == expected


@pytest.mark.postgres
def test_the_example_shows_personal_fields_over_the_api(
    light_python: Path, app: HumansApplication, personal_api: tuple[str, str]
) -> None:
    lives(app, "api", count=2)
    url, token = personal_api

    shown = run_example(
        light_python, "--api-url", url, "--token", token, "--personal", "--caught-up"
    )

    assert shown.returncode == 0, shown.stderr
    events = printed(shown.stdout)
    assert events == [event_to_dict(e) for e in full_log(app, personal=True)]
    assert events[0]["payload"]["name"] == "Human api-0"  # personal, shown
