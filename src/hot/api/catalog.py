"""The public event catalog: what events exist, at which version, with which payload.

``/catalog`` lists the catalog; ``/catalog/asyncapi.json`` describes the Redis event
streams as an AsyncAPI 3.0 document (built by ``hot.api.asyncapi`` for the app's
stream key prefix, once).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get
from litestar.di import NamedDependency

from hot.api.auth import public
from hot.api.commands import humans_of
from hot.api.models import CatalogOut, EventTypeOut


@get("/catalog", tags=["catalog"], sync_to_thread=False, **public())
def catalog(request: Request[Any, Any, Any]) -> CatalogOut:
    """Every event name and version, its description and payload JSON Schema."""
    return CatalogOut(events=[EventTypeOut.of(info) for info in humans_of(request).catalog()])


@get("/catalog/asyncapi.json", tags=["catalog"], sync_to_thread=False, **public())
def asyncapi(asyncapi_document: NamedDependency[dict[str, Any]]) -> dict[str, Any]:
    """The AsyncAPI 3.0 document of HoT's event streams in Redis."""
    return asyncapi_document
