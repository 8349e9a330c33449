"""``LiveFeedClient``: the live feed (``GET /events/stream``) over HTTP, resumed exactly.

It parses Server-Sent Events and remembers the last ``id:`` seen; when the
connection drops it reconnects with ``Last-Event-ID``, as a browser's EventSource
does, so no event is lost or repeated. Comments (keep-alives) are skipped.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from hot_follow.backoff import Backoff
from hot_follow.errors import AccessDeniedError, FollowerError
from hot_follow.events import RecordedEvent
from hot_follow.representation import event_from_dict
from hot_follow.stopping import StopFlag

log = logging.getLogger(__name__)


class LiveFeedClient:
    """Iterates over the events of the live feed at ``base_url``, from ``after`` (None: now)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        after: int | None = None,
        names: Sequence[str] = (),
        client: httpx.Client | None = None,
        read_timeout: float = 60.0,
    ) -> None:
        self.client = client or httpx.Client(
            base_url=base_url.rstrip("/"), timeout=httpx.Timeout(10.0, read=read_timeout)
        )
        self.token = token
        self.after = after
        self.names = tuple(names)
        self.last_id: str | None = None
        self._stopped = StopFlag()

    def __iter__(self) -> Iterator[RecordedEvent]:
        backoff = Backoff(initial=0.5, maximum=10.0)
        while not self._stopped.is_set():
            try:
                for event in self._connection():
                    backoff.reset()
                    yield event
            except (httpx.TransportError, _ServerError) as error:
                delay = backoff.next()
                log.warning("live feed lost (%s); reconnecting in %.1fs", error, delay)
                self._stopped.wait(delay)

    def stop(self) -> None:
        self._stopped.set()

    def close(self) -> None:
        self.stop()
        self.client.close()

    def _connection(self) -> Iterator[RecordedEvent]:
        headers = {"Authorization": f"Bearer {self.token}", "Accept": "text/event-stream"}
        params: dict[str, Any] = {"name": list(self.names)} if self.names else {}
        if self.last_id is not None:
            headers["Last-Event-ID"] = self.last_id
        elif self.after is not None:
            params["after"] = self.after
        with self.client.stream("GET", "/events/stream", params=params, headers=headers) as reply:
            _check(reply)
            for fields in _messages(reply.iter_lines()):
                if self._stopped.is_set():
                    return
                if "data" not in fields:
                    continue
                event = event_from_dict(json.loads(fields["data"]))
                self.last_id = fields.get("id", self.last_id)
                yield event


class _ServerError(Exception):
    """A 5xx or 429 answer: worth reconnecting."""


def _detail(body: str) -> str:
    """What an RFC 9457 problem says in words (its ``detail``), else the body as it came."""
    try:
        problem = json.loads(body)
    except ValueError:
        return body
    detail = problem.get("detail") if isinstance(problem, dict) else None
    return detail if isinstance(detail, str) else body


def _check(reply: httpx.Response) -> None:
    status = reply.status_code
    if status == 200:
        return
    body = reply.read().decode(errors="replace")
    if status in (401, 403):
        raise AccessDeniedError(f"The live feed refused the token ({status}): {_detail(body)}")
    if status == 429 or status >= 500:
        raise _ServerError(f"{status}: {body}")
    raise FollowerError(f"GET /events/stream answered {status}: {body}")


def _messages(lines: Iterator[str]) -> Iterator[dict[str, str]]:
    """The messages of an event stream, as field -> value (data lines joined by newlines)."""
    fields: dict[str, str] = {}
    for line in lines:
        if not line:
            if fields:
                yield fields
            fields = {}
            continue
        if line.startswith(":"):
            continue
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data" and "data" in fields:
            fields["data"] += "\n" + value
        else:
            fields[name] = value
