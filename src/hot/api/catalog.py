"""The public event catalog: what events exist, at which version, with which payload.

``/catalog`` lists the catalog; ``/catalog/asyncapi.json`` describes the Redis event
streams as an AsyncAPI 3.0 document (built by ``hot.api.asyncapi`` for the app's
stream key prefix, once).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency

from hot.api.asyncapi import AsyncApiDocument
from hot.api.auth import public
from hot.api.commands import humans_of
from hot.api.models import CatalogOut, EventTypeOut


@get("/catalog", tags=["catalog"], **public())
async def catalog(request: Request[Any, Any, Any]) -> CatalogOut:
    """Every event name and version, built-in and teams', its description and payload
    JSON Schema."""
    infos = await humans_of(request).every_event_type()
    return CatalogOut(events=[EventTypeOut.of(info) for info in infos])


@get("/catalog/asyncapi.json", tags=["catalog"], **public())
async def asyncapi(
    request: Request[Any, Any, Any], asyncapi_document: NamedDependency[AsyncApiDocument]
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of HoT's event streams in Redis: a channel per event
    name, a message per name and version, teams' types included."""
    return asyncapi_document(await humans_of(request).every_event_type())
