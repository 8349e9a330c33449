"""``create_app``: the Litestar application, built from the parts the composition root made.

Nothing here reads settings or opens connections: the caller passes the humans
application, the API key store, and optionally a Redis client, the statuses of the
relay and of the SQL read projector, and the ``Feed`` that serves the live feed
(``GET /events/stream``, mounted only with one). How long a request may wait for
PostgreSQL is the application's deadline.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from importlib.metadata import version
from typing import Any

from litestar import HttpMethod, Litestar, Request, Response, Router, route
from litestar.config.cors import CORSConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.handlers import HTTPRouteHandler

from hot.api.asyncapi import asyncapi_document
from hot.api.auth import SECURITY_COMPONENTS, public, scope_guard
from hot.api.catalog import asyncapi, catalog
from hot.api.commands import (
    HUMANS,
    attend,
    change_details,
    join,
    leave,
    record_event,
    register,
    set_external_id,
)
from hot.api.docs import DOCS_PATH, swagger_ui_assets, swagger_ui_page
from hot.api.event_types import ROUTES as EVENT_TYPE_ROUTES
from hot.api.forget import forget
from hot.api.health import Readiness, RelayStatus, live, ready
from hot.api.links import LinkedOpenAPIConfig
from hot.api.live import live_feed
from hot.api.observing import METRICS, metrics_route, observed
from hot.api.params import MAX_BODY_BYTES, reject_unknown_query_parameters, require_json_body
from hot.api.problems import EXCEPTION_HANDLERS
from hot.api.queries import find_humans, get_human, history, read_log
from hot.api.schema import pydantic_plugins
from hot.api.web_console import console_files
from hot.api.whoami import whoami
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from hot.infra.metrics import HotMetrics
from hot.infra.tracing import Tracing
from hot_follow import Feed
from hot_follow.redis_client import RedisClient

# What a browser's script may read of an answer from another origin, beyond the basics.
EXPOSED_HEADERS = ("ETag", "Location", "Retry-After")


def allow(path: str, *methods: str) -> HTTPRouteHandler:
    """An OPTIONS handler for ``path`` that lists ``methods``."""
    allowed = ", ".join((*methods, "OPTIONS"))

    @route(path, http_method=[HttpMethod.OPTIONS], include_in_schema=False, sync_to_thread=False)
    def options() -> Response[None]:
        return Response(None, status_code=204, headers={"Allow": allowed})

    return options


def create_app(
    app: HumansApplication,
    api_keys: ApiKeyStore,
    *,
    redis: RedisClient | None = None,
    relay_status: RelayStatus | None = None,
    sql_read_status: RelayStatus | None = None,
    replica_status: RelayStatus | None = None,
    feed: Feed | None = None,
    cors_origins: Sequence[str] = (),
    on_shutdown: Sequence[Callable[[], object]] = (),
    stream_prefix: str = "hot",
    stream_personal: bool = False,
    metrics: HotMetrics | None = None,
    metrics_route_on: bool = True,
    tracing: Tracing | None = None,
    debug: bool = False,
) -> Litestar:
    """The HoT HTTP API over ``app``, with tokens checked against ``api_keys``.

    ``stream_prefix``: the Redis key prefix the AsyncAPI document names, and
    ``stream_personal`` whether the streams carry personal fields (``HOT_STREAM_PERSONAL``).
    ``metrics``: the process's, counted for each request and served at ``GET /metrics``
    unless ``metrics_route_on`` is False (served on a port of their own, or by the parent).
    ``tracing``: the process's traces, a server span for each request (its commands'
    spans are the application's, ``HumansApplication.trace_with``).
    Every request has an id, echoed in ``X-Request-ID`` and on its log lines.
    """
    ping_redis = redis.ping if redis is not None else None
    readiness = Readiness(app, ping_redis, relay_status, sql_read_status, replica_status)
    document = functools.partial(asyncapi_document, prefix=stream_prefix, personal=stream_personal)
    sse_clients = metrics.sse_clients if metrics is not None else None
    streams = [live_feed(feed, clients=sse_clients)] if feed is not None else []
    scrape = [metrics_route(metrics)] if metrics is not None and metrics_route_on else []

    async def before_request(request: Request[Any, Any, Any]) -> None:
        reject_unknown_query_parameters(request)
        require_json_body(request)

    return Litestar(
        route_handlers=[
            # First: Litestar answers OPTIONS on a path from the first handler registered
            # there, so on the paths shared by a query and a command, we answer it.
            allow("/humans", "GET", "POST"),
            allow("/humans/{human_id:str}", "GET", "PATCH"),
            allow("/events", "GET", "POST"),
            allow("/catalog/types", "GET", "POST"),
            register,
            join,
            leave,
            attend,
            change_details,
            set_external_id,
            record_event,
            forget,
            get_human,
            find_humans,
            history,
            read_log,
            catalog,
            asyncapi,
            *EVENT_TYPE_ROUTES,
            live,
            ready,
            *streams,
            *scrape,
            whoami,
            swagger_ui_assets(),
            console_files(),
        ],
        dependencies={
            "readiness": Provide(lambda: readiness, use_cache=True, sync_to_thread=False),
            "asyncapi_document": Provide(lambda: document, use_cache=True, sync_to_thread=False),
        },
        state=State({HUMANS: app, METRICS: metrics}),
        middleware=[observed(metrics, tracing)],
        guards=[scope_guard(api_keys)],
        plugins=pydantic_plugins(),
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=LinkedOpenAPIConfig(  # with links from answers to operations
            title="HoT: Humans of Trantor",
            version=version("hot"),
            description="Every event about the humans of Trantor, recorded and queryable.",
            components=[SECURITY_COMPONENTS],
            use_handler_docstrings=True,  # each route's docstring is its description
            render_plugins=[swagger_ui_page()],
            openapi_router=Router(
                path=DOCS_PATH, route_handlers=[], include_in_schema=False, **public()
            ),
        ),
        cors_config=(
            CORSConfig(allow_origins=list(cors_origins), expose_headers=list(EXPOSED_HEADERS))
            if cors_origins
            else None
        ),
        request_max_body_size=MAX_BODY_BYTES,
        before_request=before_request,
        on_shutdown=list(on_shutdown),
        logging_config=None,  # the process's logging is its entry point's (hot.infra.logs)
        debug=debug,
    )
