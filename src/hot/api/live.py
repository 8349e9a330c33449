"""``GET /events/stream``: the live feed, as Server-Sent Events, for everything not Python.

Each event is one message: ``id:`` its log position, ``event:`` its name, ``data:``
the event as JSON (``event_to_dict``, as everywhere). The stream starts after
``?after=<position>`` (default: now, the log's head), or after the ``Last-Event-ID``
header, which takes precedence: a browser's ``EventSource`` reconnects to the same
URL, original ``after`` included, and names the last event it received there, so
the header is the one that says where to go on. ``?name=`` (repeatable) keeps only
those event names. A comment line is sent when nothing happened for
``keepalive_seconds``, so proxies keep the connection open and clients notice a
dead one. Personal fields read as ``"(personal)"`` unless the token has the
``personal`` scope, as on every other read.

Behind it is a ``Follower`` (the log, then Redis): it runs in worker threads of a
limiter of its own, so that streams cannot take the threads the other routes need.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Protocol

import anyio.to_thread
from anyio import CapacityLimiter
from litestar import Request, get
from litestar.handlers import HTTPRouteHandler
from litestar.params import HeaderParameter, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from hot.api import responses
from hot.api.auth import QUERY_TOKEN, needs, sees_personal
from hot.api.params import A_STRING_HEADER, MAX_NUMBER
from hot.application import CATALOG
from hot.domain import InvalidQueryError
from hot.infra.api_keys import Scope
from hot_follow import Feed, Follower
from hot_follow.names import unknown_names
from hot_follow.representation import event_to_dict, masked_event

RETRY_MILLISECONDS = 2000  # how long a browser waits before reconnecting


class OpenClients(Protocol):
    """Counts the open streams (a Prometheus gauge)."""

    def inc(self) -> None: ...

    def dec(self) -> None: ...


class _Uncounted:
    def inc(self) -> None:
        pass

    def dec(self) -> None:
        pass


def live_feed(
    feed: Feed,
    *,
    keepalive_seconds: float = 15.0,
    max_streams: int = 256,
    clients: OpenClients | None = None,
) -> HTTPRouteHandler:
    """The route handler of the live feed over ``feed``: mount it in the app; ``clients``
    counts the streams open."""
    limiter = CapacityLimiter(max_streams)
    open_clients = clients or _Uncounted()

    @get(
        "/events/stream",
        media_type="text/event-stream",
        tags=["queries"],
        responses=responses.LOG,
        **needs(Scope.READ, token_in_query=True),
    )
    async def events_stream(
        request: Request[Any, Any, Any],
        after: Annotated[
            int | None,
            QueryParameter(
                ge=0, le=MAX_NUMBER, description="Start after this position (default: now)."
            ),
        ] = None,
        name: Annotated[
            list[str] | None,
            QueryParameter(
                description="Only events of these names (repeat for several).",
                schema_extra={"items": {"type": "string", "enum": list(CATALOG.names)}},
            ),
        ] = None,
        access_token: Annotated[
            str | None,
            QueryParameter(
                name=QUERY_TOKEN,
                description=(
                    "The token, for clients that cannot send an Authorization header "
                    "(a browser's EventSource). Prefer the header where you can."
                ),
            ),
        ] = None,
        last_event_id: Annotated[
            str | None,
            HeaderParameter(
                name="Last-Event-ID",
                description="Resume after this position (wins over `after`).",
                schema_extra=A_STRING_HEADER,
            ),
        ] = None,
    ) -> ServerSentEvent:
        """The events after a position as they are recorded, as Server-Sent Events.

        Personal fields read as ``"(personal)"`` unless the token has the ``personal`` scope.
        """
        names = _names(name or ())
        start = _resumed_at(last_event_id)
        if start is None:
            start = after
        if start is None:
            start = await anyio.to_thread.run_sync(feed.head, names, limiter=limiter) or 0
        personal = sees_personal(request)
        follower = feed.follow(start, names, personal=personal)
        messages = _messages(follower, keepalive_seconds, limiter, personal, open_clients)
        return ServerSentEvent(messages)

    return events_stream


def _resumed_at(last_event_id: str | None) -> int | None:
    if last_event_id is None or not last_event_id.strip():
        return None
    text = last_event_id.strip()
    if not text.isdigit() or int(text) > MAX_NUMBER:
        raise InvalidQueryError("Last-Event-ID", f"Last-Event-ID must be a position, not {text!r}.")
    return int(text)


def _names(names: Sequence[str]) -> tuple[str, ...]:
    unknown = unknown_names(names)
    if unknown:
        raise InvalidQueryError("name", f"Unknown event name(s): {', '.join(unknown)}.")
    return tuple(names)


async def _messages(
    follower: Follower,
    keepalive_seconds: float,
    limiter: CapacityLimiter,
    personal: bool,
    clients: OpenClients,
) -> AsyncIterator[ServerSentEventMessage]:
    """Messages for the follower's events, and keep-alive comments, until the client leaves.

    Without ``personal``, each event's personal fields are masked: the follower already
    masks them then, and this makes sure of it whatever feed the route was given.
    """
    clients.inc()
    try:
        yield ServerSentEventMessage(data=None, comment="hot live feed", retry=RETRY_MILLISECONDS)
        while True:
            batch = await anyio.to_thread.run_sync(
                follower.poll, keepalive_seconds, limiter=limiter
            )
            if not batch:
                # data=None: a comment alone, which clients ignore (an empty data line
                # would make a browser dispatch an empty message).
                yield ServerSentEventMessage(data=None, comment="keep-alive")
            shown = batch if personal else [masked_event(e) for e in batch]
            for event in shown:
                data = json.dumps(event_to_dict(event), separators=(",", ":"), ensure_ascii=False)
                yield ServerSentEventMessage(data=data, event=event.name, id=event.position)
    finally:
        clients.dec()
        follower.close()
