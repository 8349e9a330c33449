"""``hot import FILE``: a JSON Lines file posted to a real HoT over real sockets, each line
recorded once, each refused line reported, per-human order kept, resumable."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from litestar import Litestar, Response, post
from litestar.params import JSONBody

from hot.application import HumansApplication
from hot.application.envelopes import registered_human_id
from hot.cli import main
from tests.api.conftest import Humans, Tokens, new_email
from tests.serving import free_port, served
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def url(api: Litestar) -> Iterator[str]:
    with served(api, free_port()) as base_url:
        yield base_url


def envelope(event_name: str, **payload: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "name": event_name, "version": 1, "payload": payload}


def registration() -> dict[str, Any]:
    return envelope("HUMAN_REGISTERED", name="Hari Seldon", email=new_email(), kind="employee")


def human_of(registered: dict[str, Any]) -> str:
    return str(registered_human_id(uuid.UUID(registered["id"])))


def write_lines(path: Path, lines: list[dict[str, Any] | str]) -> Path:
    text = (line if isinstance(line, str) else json.dumps(line) for line in lines)
    path.write_text("\n".join(text) + "\n")
    return path


def line_number(report: str) -> int:
    return int(report.removeprefix("line ").split(":")[0])


def hot_import(path: Path, url: str, token: str, *args: str) -> Result:
    return CliRunner().invoke(main, ["import", str(path), "--url", url, "--token", token, *args])


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, list[dict[str, Any]]]:
    """A file of three good lines and five bad ones; the good ones."""
    registered = registration()
    human_id = human_of(registered)
    joined = envelope("HUMAN_JOINED", human_id=human_id, on="2020-01-01", role="scribe")
    attended = envelope("HUMAN_ATTENDED", human_id=human_id, on="2020-01-02")
    lines: list[dict[str, Any] | str] = [
        registered,
        joined,
        '{"id": "not json',
        envelope("HUMAN_TELEPORTED", human_id=human_id),
        envelope("HUMAN_JOINED", human_id=str(uuid.uuid4()), on="2020-01-01", role="x"),
        envelope("HUMAN_ATTENDED", human_id=human_id, on="not a date"),
        attended,
        "[1, 2]",
    ]
    return write_lines(tmp_path / "seed.jsonl", lines), [registered, joined, attended]


def test_good_lines_are_recorded_and_each_bad_line_is_reported_with_its_reason(
    mixed: tuple[Path, list[dict[str, Any]]], url: str, tokens: Tokens, given: Humans
) -> None:
    path, good = mixed

    result = hot_import(path, url, tokens.write)

    assert result.exit_code == 1, result.output
    assert result.stdout == "3 recorded, 0 already recorded, 5 refused\n"
    refused = sorted(result.stderr.splitlines(), key=line_number)  # reported as they end
    assert (
        refused[0]
        == "line 3: refused: not JSON: Unterminated string starting at: line 1 column 8 (char 7)"
    )
    assert refused[1].startswith("line 4: HUMAN_TELEPORTED refused: Invalid envelope: ")
    assert refused[2].startswith("line 5: HUMAN_JOINED refused: Human not found: ")
    assert refused[3].startswith("line 6: HUMAN_ATTENDED refused: Invalid envelope: payload.on")
    assert refused[4].startswith("line 8: refused: not an envelope")
    assert len(refused) == 5
    history = given.events(human_of(good[0]))
    assert [e["id"] for e in history] == [e["id"] for e in good]
    assert not path.with_name("seed.jsonl.progress").exists()  # finished: nothing to resume


def test_importing_again_records_nothing_new(
    mixed: tuple[Path, list[dict[str, Any]]],
    url: str,
    tokens: Tokens,
    given: Humans,
    humans: HumansApplication,
) -> None:
    path, good = mixed
    hot_import(path, url, tokens.write)
    head, history = humans.head(), given.events(human_of(good[0]))

    again = hot_import(path, url, tokens.write, "--concurrency", "1")

    assert again.exit_code == 1
    assert again.stdout == "0 recorded, 3 already recorded, 5 refused\n"
    assert humans.head() == head
    assert given.events(human_of(good[0])) == history


def test_lines_about_one_human_keep_their_order_with_eight_at_once(
    tmp_path: Path, url: str, tokens: Tokens, given: Humans
) -> None:
    """10 humans, each registered, joined and attending 20 days, their lines interleaved:
    a human's join never overtakes its registration, nor an attendance its join."""
    per_human = []
    for _ in range(10):
        registered = registration()
        human_id = human_of(registered)
        joined = envelope("HUMAN_JOINED", human_id=human_id, on="2020-01-01", role="scribe")
        days = [f"2020-01-{day:02}" for day in range(2, 22)]
        attended = [envelope("HUMAN_ATTENDED", human_id=human_id, on=day) for day in days]
        per_human.append([registered, joined, *attended])
    interleaved: list[dict[str, Any] | str] = [
        line for step in zip(*per_human, strict=True) for line in step
    ]
    path = write_lines(tmp_path / "seed.jsonl", interleaved)

    result = hot_import(path, url, tokens.write, "--concurrency", "8", "--progress-bar")

    assert result.exit_code == 0, result.output
    assert result.stdout == "220 recorded, 0 already recorded, 0 refused\n"
    assert "220/220 lines" in result.stderr
    for lines in per_human:
        history = given.events(human_of(lines[0]))
        assert [e["id"] for e in history] == [e["id"] for e in lines]


def test_a_progress_file_makes_the_import_resume_from_its_line(
    tmp_path: Path, url: str, tokens: Tokens, given: Humans
) -> None:
    registrations = [registration() for _ in range(6)]
    path = write_lines(tmp_path / "seed.jsonl", list(registrations))
    progress = tmp_path / "seed.jsonl.progress"
    progress.write_text('{"next_line": 4}\n')

    resumed = hot_import(path, url, tokens.write)
    registered = [bool(humans_named(given, r)) for r in registrations]
    restarted = hot_import(path, url, tokens.write, "--restart")

    assert resumed.exit_code == 0, resumed.output
    assert "resuming from line 4, as " in resumed.stderr
    assert resumed.stdout == "3 recorded, 0 already recorded, 0 refused\n"
    assert registered == [False] * 3 + [True] * 3
    assert not progress.exists()
    assert restarted.stdout == "3 recorded, 3 already recorded, 0 refused\n"


def test_from_line_starts_there(tmp_path: Path, url: str, tokens: Tokens) -> None:
    path = write_lines(tmp_path / "seed.jsonl", [registration() for _ in range(5)])

    result = hot_import(path, url, tokens.write, "--from-line", "5")

    assert result.stdout == "1 recorded, 0 already recorded, 0 refused\n"


def humans_named(given: Humans, registered: dict[str, Any]) -> list[dict[str, Any]]:
    response = given.client.get(f"/humans/{human_of(registered)}")
    return [response.json()] if response.status_code == 200 else []


@pytest.mark.parametrize(
    ("token", "says"),
    [
        ("read", "hot: the token lacks the write scope (403 Forbidden: "),
        ("hot_nonsense", "hot: the API refused the token (401 Unauthorized: "),
    ],
)
def test_a_refused_token_stops_at_once(
    tmp_path: Path, url: str, tokens: Tokens, token: str, says: str
) -> None:
    path = write_lines(tmp_path / "seed.jsonl", [registration() for _ in range(3)])

    result = hot_import(path, url, getattr(tokens, token, token))

    assert result.exit_code == 1
    assert result.stdout == "0 recorded, 0 already recorded, 0 refused\n"
    assert result.stderr.startswith(says), result.stderr
    assert not path.with_name("seed.jsonl.progress").exists()  # nothing to resume


class StandInEvents:
    """A stand-in for the API's ``POST /events``, served over real sockets: it takes each
    envelope (its id into ``taken``) after ``delay`` seconds, except the one ``refused_id``
    names, answered 503 with ``Retry-After: 0`` (as HoT without its database)."""

    def __init__(self, refused_id: str = "", delay: float = 0.0) -> None:
        self.refused_id, self.delay = refused_id, delay
        self.taken: list[str] = []

    def app(self) -> Litestar:
        @post("/events")
        async def record(data: JSONBody[dict[str, Any]]) -> Response[dict[str, Any]]:
            await asyncio.sleep(self.delay)
            if data["id"] == self.refused_id:
                problem = {"title": "Database unavailable", "detail": "Retry shortly."}
                return Response(problem, status_code=503, headers={"Retry-After": "0"})
            self.taken.append(data["id"])
            return Response({"id": data["id"], "version": 1, "position": 1}, status_code=201)

        return Litestar([record])


def test_an_unavailable_api_stops_the_import_saying_where_to_resume(tmp_path: Path) -> None:
    lines = [registration() for _ in range(6)]
    path = write_lines(tmp_path / "seed.jsonl", list(lines))
    flaky = StandInEvents(refused_id=lines[4]["id"])
    with served(flaky.app(), free_port()) as flaky_url:
        stopped = hot_import(path, flaky_url, "t", "--concurrency", "1", "--retries", "2")
    healed = StandInEvents()
    with served(healed.app(), free_port()) as healed_url:
        resumed = hot_import(path, healed_url, "t")

    assert stopped.exit_code == 1
    assert stopped.stdout == "4 recorded, 0 already recorded, 0 refused\n"
    assert stopped.stderr == (
        f"hot: the API at {flaky_url} could not take line 5 after 3 tries (503 Database "
        "unavailable: Retry shortly.); stopped: run the same command again to resume "
        "from line 5\n"
    )
    assert "resuming from line 5" in resumed.stderr
    ids = [line["id"] for line in lines]
    assert flaky.taken == ids[:4]
    # Lines about different humans go at once on the resumed run: in any order, once each.
    assert sorted(healed.taken) == sorted(ids[4:])


def test_sigterm_stops_the_import_keeping_where_to_resume(tmp_path: Path) -> None:
    lines = [registration() for _ in range(1000)]
    path = write_lines(tmp_path / "seed.jsonl", list(lines))
    slow = StandInEvents(delay=0.01)
    with served(slow.app(), free_port()) as slow_url:
        command = [sys.executable, "-m", "hot.cli", "import", str(path), "--url", slow_url]
        process = subprocess.Popen(
            [*command, "--token", "t"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        wait_until(lambda: len(slow.taken) >= 50, 60, "50 lines taken")
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=60)
    saved = json.loads(path.with_name("seed.jsonl.progress").read_text())["next_line"]

    assert process.returncode == 1
    assert err == f"hot: interrupted; run the same command again to resume from line {saved}\n"
    assert out.endswith(" recorded, 0 already recorded, 0 refused\n")
    assert 1 < saved < 1000
    assert {line["id"] for line in lines[: saved - 1]} <= set(slow.taken)
