"""Reading the live feed (SSE) in tests: a server of the feed alone, and its messages."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Callable, Iterator

import httpx
from litestar import Litestar

from hot.api.live import live_feed
from hot.api.problems import EXCEPTION_HANDLERS
from hot.application import RecordedEvent
from hot_follow import Feed
from hot_follow.representation import event_from_dict
from hot_follow.sse import _messages
from tests.serving import served

READING = 60  # seconds a test reads a stream at most: keep-alives never let it time out


@contextlib.contextmanager
def serving(feed: Feed, port: int, keepalive: float = 0.5) -> Iterator[str]:
    """A tiny app with only the live feed, served by uvicorn in a thread; its base URL."""
    app = Litestar(
        [live_feed(feed, keepalive_seconds=keepalive)], exception_handlers=EXCEPTION_HANDLERS
    )
    with served(app, port) as url:
        yield url


def read_messages(
    base_url: str,
    count: int,
    headers: dict[str, str] | None = None,
    opened: Callable[[], object] | None = None,
    **params: object,
) -> list[dict[str, str]]:
    """The first ``count`` messages with data of a new connection (comments skipped).

    ``opened`` is called once the stream's opening message has come: the server has
    fixed where the stream starts by then. Fails after ``READING`` s without them all.
    """
    found: list[dict[str, str]] = []
    with httpx.stream(
        "GET", f"{base_url}/events/stream", params=params, headers=headers, timeout=10
    ) as reply:
        assert reply.status_code == 200, reply.read()
        assert reply.headers["content-type"].startswith("text/event-stream")
        for message in _messages(within(reply.iter_lines(), READING, f"{count} messages")):
            if "data" in message:
                found.append(message)
            elif "retry" in message and opened is not None:  # the opening message
                opened()
            if len(found) == count:
                break
    return found


def within(lines: Iterator[str], seconds: float, what: str) -> Iterator[str]:
    """``lines``, failing (rather than waiting on keep-alives for ever) after ``seconds``."""
    deadline = time.monotonic() + seconds
    for line in lines:
        if time.monotonic() > deadline:
            raise AssertionError(f"Not within {seconds} s: {what}")
        yield line


def events_of(messages: list[dict[str, str]]) -> list[RecordedEvent]:
    return [event_from_dict(json.loads(m["data"])) for m in messages]
