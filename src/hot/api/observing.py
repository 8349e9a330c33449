"""What the API tells of each request: its request id (echoed, and on every log line while
it is handled), its count and time by route and status, and a command refused before
it reached the application (``invalid``).

``observed`` is an ASGI middleware of the whole app: a well-formed ``X-Request-ID`` is
honoured, else one is made (a random prefix per process and a counter: no system call
per request), set in ``hot.infra.logs.REQUEST_ID`` for the request and sent back in
``X-Request-ID``. A request Litestar routes nowhere (404 on an unknown path) does not
reach middleware: it has no id, nor a count.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from collections.abc import Callable
from typing import Any

from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.handlers import HTTPRouteHandler
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from hot.api.auth import public
from hot.domain import DomainError, InvalidEnvelopeError
from hot.infra.logs import REQUEST_ID
from hot.infra.metrics import CONTENT_TYPE, HotMetrics
from hot.infra.tracing import Tracing

METRICS = "hot_metrics"  # the key of the metrics in the app's state
REQUEST_ID_HEADER = b"x-request-id"
WELL_FORMED_ID = re.compile(rb"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
INVALID_STATUSES = frozenset({400, 413, 415, 422})

_prefix = os.urandom(4).hex()
_numbers = itertools.count(1)


def new_request_id() -> str:
    return f"{_prefix}-{next(_numbers)}"


def given_request_id(scope: Scope) -> str | None:
    """The request's own ``X-Request-ID``, if it has a well-formed one."""
    for name, value in scope["headers"]:
        if name == REQUEST_ID_HEADER:
            return value.decode() if WELL_FORMED_ID.fullmatch(value) else None
    return None


def observed(
    metrics: HotMetrics | None, tracing: Tracing | None = None
) -> Callable[[ASGIApp], ASGIApp]:
    """The middleware: request ids always, counts and times when ``metrics`` is given, a
    server span per request when ``tracing`` is."""
    tracer = tracing.tracer if tracing is not None else None

    def middleware(app: ASGIApp) -> ASGIApp:
        async def observe(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:
                await app(scope, receive, send)
                return
            request_id = given_request_id(scope) or new_request_id()
            header = (REQUEST_ID_HEADER, request_id.encode())
            started = time.perf_counter()

            async def send_with_id(message: Message) -> None:
                if message["type"] == "http.response.start":
                    message["headers"] = [*message.get("headers", ()), header]
                    if metrics is not None:
                        _count(metrics, scope, message["status"], started)
                await send(message)

            token = REQUEST_ID.set(request_id)
            try:
                if tracer is None:
                    await app(scope, receive, send_with_id)
                else:
                    await _traced(tracer, app, scope, receive, send_with_id, request_id)
            finally:
                REQUEST_ID.reset(token)

        return observe

    return middleware


async def _traced(
    tracer: trace.Tracer, app: ASGIApp, scope: Scope, receive: Receive, send: Send, request_id: str
) -> None:
    """Answer the request inside its server span: a child of the caller's span when the
    request carries one (``traceparent``), current while the request is answered."""
    method, route = scope["method"], scope.get("path_template")  # type: ignore[typeddict-item]
    carrier = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
    attributes = {"http.request.method": method, "url.path": scope["path"]}
    if route:
        attributes["http.route"] = route
    attributes["hot.request_id"] = request_id
    with tracer.start_as_current_span(
        f"{method} {route}" if route else method,
        context=propagate.extract(carrier),
        kind=SpanKind.SERVER,
        attributes=attributes,
    ) as span:

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                status = message["status"]
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    span.set_status(Status(StatusCode.ERROR))
            await send(message)

        await app(scope, receive, send_traced)


def _count(metrics: HotMetrics, scope: Any, status: int, started: float) -> None:
    route = scope.get("path_template") or "other"
    metrics.requests.answered(scope["method"], route, status, time.perf_counter() - started)


def count_invalid_command(request: Request[Any, Any, Any], exc: Exception, status: int) -> None:
    """Count a command refused before it reached the application (its body, path or
    envelope malformed): outcome ``invalid``, named by its route. What reached the
    application, its pipeline counts (``hot.application.meter``)."""
    if status not in INVALID_STATUSES:
        return
    if isinstance(exc, DomainError) and not isinstance(exc, InvalidEnvelopeError):
        return
    metrics = request.app.state.get(METRICS)
    handler = request.scope.get("route_handler")
    if metrics is None or "commands" not in (getattr(handler, "tags", None) or ()):
        return
    metrics.commands.labels(handler.handler_name, "invalid").inc()


def metrics_route(metrics: HotMetrics) -> HTTPRouteHandler:
    """``GET /metrics``: the Prometheus text format, public as ``/health`` is."""

    @get("/metrics", include_in_schema=False, sync_to_thread=True, **public())
    def scrape() -> Response[bytes]:
        return Response(metrics.render(), media_type=CONTENT_TYPE)

    return scrape
