"""The live feed (Server-Sent Events over a real HTTP server, resumed with Last-Event-ID)
and `hot tail`, which prints it."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator

import httpx
import pytest
from click.testing import CliRunner

from hot.api import create_app
from hot.application import HumansApplication, RecordedEvent
from hot.cli import main
from hot.infra.api_keys import ApiKeyStore
from hot.infra.relay import Relay
from hot_follow import Feed
from hot_follow.representation import event_from_dict, masked_event
from hot_follow.sse import LiveFeedClient
from tests.event_log import live_a_life
from tests.serving import free_port, served

from .conftest import full_log, write_lives
from .live_reading import events_of, read_messages, serving

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def base_url(feed: Feed, relay: Relay) -> Iterator[str]:
    with serving(feed, free_port()) as url:
        yield url


def masked(events: list[RecordedEvent]) -> list[RecordedEvent]:
    """As a reader without the personal scope sees them (so does this test's client)."""
    return [masked_event(e) for e in events]


def test_each_message_is_an_event_with_its_position_as_id(
    app: HumansApplication, base_url: str
) -> None:
    live_a_life(app, 2, "ann")

    messages = read_messages(base_url, 6, after=0)

    log = masked(full_log(app))
    assert [m["id"] for m in messages] == [str(e.position) for e in log]
    assert [m["event"] for m in messages] == [e.name for e in log]
    assert events_of(messages) == log


def test_reconnecting_with_last_event_id_gets_exactly_the_events_after_it(
    app: HumansApplication, base_url: str
) -> None:
    write_lives(app, 2, 6)  # 20 events
    first = read_messages(base_url, 7, after=0)
    last_id = first[-1]["id"]

    # As a browser does: the same URL (after=0), and the id of the last event seen.
    # Five more are written once it is connected again: they come after the 13 it missed.
    resumed = read_messages(
        base_url,
        13 + 5,
        headers={"Last-Event-ID": last_id},
        opened=lambda: live_a_life(app, 1, "while-away"),
        after=0,
    )

    log = masked(full_log(app))
    assert events_of(first) + events_of(resumed) == log
    assert [int(m["id"]) for m in resumed] == [e.position for e in log if e.position > int(last_id)]


def test_names_filter_the_feed_and_a_missing_after_means_from_now(
    app: HumansApplication, base_url: str
) -> None:
    live_a_life(app, 2, "before")

    # "Now" is fixed before the stream opens: what is written once it has, comes.
    messages = read_messages(
        base_url, 3, opened=lambda: live_a_life(app, 3, "after"), name=["HUMAN_ATTENDED"]
    )

    attended = [e for e in full_log(app) if e.name == "HUMAN_ATTENDED"]
    assert events_of(messages) == attended[2:]  # none of the two attended before connecting


def test_an_idle_stream_sends_keep_alive_comments(base_url: str) -> None:
    lines: list[str] = []
    with httpx.stream("GET", f"{base_url}/events/stream", timeout=10) as reply:
        for line in reply.iter_lines():
            lines.append(line)
            if lines.count(": keep-alive") == 2:
                break
    assert "retry: 2000" in lines
    assert not any(line.startswith("data") for line in lines)


@pytest.mark.parametrize(
    ("params", "headers", "field"),
    [
        ({"name": "HUMAN_DANCED"}, {}, "name"),
        ({}, {"Last-Event-ID": "last-one"}, "Last-Event-ID"),
        ({"after": "-1"}, {}, "after"),
    ],
)
def test_bad_requests_are_refused_with_a_problem(
    base_url: str, params: dict[str, str], headers: dict[str, str], field: str
) -> None:
    reply = httpx.get(f"{base_url}/events/stream", params=params, headers=headers, timeout=10)
    assert reply.status_code == 400
    assert reply.headers["content-type"].startswith("application/problem+json")
    assert field in reply.text


def test_the_client_resumes_across_a_server_restart(
    app: HumansApplication, feed: Feed, relay: Relay
) -> None:
    port = free_port()
    live_a_life(app, 2, "first")
    client = LiveFeedClient(f"http://127.0.0.1:{port}", "unused", after=0)
    got: list[RecordedEvent] = []
    with serving(feed, port):
        for event in client:
            got.append(event)
            if len(got) == 4:
                break
    live_a_life(app, 1, "while-down")
    with serving(feed, port):
        for event in client:
            got.append(event)
            if len(got) == 11:
                break
    client.close()
    assert got == masked(full_log(app))


def test_a_browser_may_send_its_token_as_access_token_on_the_live_feed_only(
    app: HumansApplication, feed: Feed, relay: Relay, database_url: str
) -> None:
    """EventSource cannot send headers: ``?access_token=`` works on the stream, is not
    taken anywhere else, and may not come with an Authorization header as well."""
    api_keys = ApiKeyStore(database_url)
    token = api_keys.create(f"browser-{uuid.uuid4().hex[:6]}", ["read"])
    live_a_life(app, 1, "eve")
    with api_keys, served(create_app(app, api_keys, feed=feed), free_port()) as url:
        messages = read_messages(url, 5, after=0, access_token=token)
        assert events_of(messages) == masked(full_log(app))

        refusals = [
            httpx.get(f"{url}/events/stream", params={"access_token": "hot_wrong"}, timeout=10),
            httpx.get(f"{url}/events/stream", params={"access_token": ""}, timeout=10),
            httpx.get(
                f"{url}/events/stream",
                params={"access_token": token},
                headers={"Authorization": f"Bearer {token}"},
                timeout=10,
            ),
            httpx.get(f"{url}/events", params={"access_token": token}, timeout=10),
        ]
    for reply in refusals:
        assert reply.status_code == 401, reply.text
        assert reply.headers["content-type"].startswith("application/problem+json")


def test_hot_tail_prints_a_line_per_event_over_http(app: HumansApplication, base_url: str) -> None:
    live_a_life(app, 1, "tailed")
    log = masked(full_log(app))

    result = CliRunner().invoke(
        main, ["tail", "--url", base_url, "--token", "t", "--after", "0", "--count", "5"]
    )

    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 5
    for line, event in zip(lines, log, strict=True):
        assert line.split()[0] == str(event.position)
        assert event.name in line
        assert str(event.subject) in line
    assert "kind=employee" in lines[0]
    assert f"on={log[2].payload['on']}" in lines[2]


def test_hot_tail_reads_the_database_directly_and_filters_by_name(
    app: HumansApplication, database_url: str, redis_server_url: str, redis_prefix: str
) -> None:
    write_lives(app, 2, 3)
    env = {"HOT_REDIS_URL": redis_server_url, "HOT_REDIS_PREFIX": redis_prefix}
    args = ["tail", "--database-url", database_url, "--after", "0", "--count", "6"]

    result = CliRunner(env=env).invoke(main, [*args, "--name", "HUMAN_ATTENDED", "--json"])

    assert result.exit_code == 0, result.output
    attended = [e for e in full_log(app) if e.name == "HUMAN_ATTENDED"]
    printed = [event_from_dict(json.loads(line)) for line in result.output.splitlines()]
    assert printed == attended


def test_hot_tail_refuses_unknown_names(database_url: str) -> None:
    # Not a built-in's, and no team's type may be named so (HUMAN_ is HoT's own).
    arguments = ["tail", "--database-url", database_url, "--name", "HUMAN_NOPE"]
    result = CliRunner().invoke(main, arguments)
    assert result.exit_code == 2
    assert "Unknown event name(s): HUMAN_NOPE" in result.output


def test_hot_tail_with_a_bad_token_says_so_in_one_line(
    app: HumansApplication, feed: Feed, relay: Relay, database_url: str
) -> None:
    """As a person runs it: a process of its own, whose stderr is all it printed."""
    with (
        ApiKeyStore(database_url) as api_keys,
        served(create_app(app, api_keys, feed=feed), free_port()) as url,
    ):
        tail = subprocess.run(
            [sys.executable, "-m", "hot.cli", "tail", "--url", url, "--token", "hot_bad"],
            capture_output=True,
            text=True,
            timeout=60,
        )

    assert tail.returncode == 1
    assert tail.stdout == ""
    assert tail.stderr.count("\n") == 1, tail.stderr  # one line: no traceback
    assert tail.stderr == (
        "hot: The live feed refused the token (401): The token is unknown or has been revoked.\n"
    )
