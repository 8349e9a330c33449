"""The open catalog's routes: teams register their own event types and versions.

Registering takes the ``catalog`` scope (``admin`` implies it); reading the catalog is
open to everyone, as ``/catalog`` is. Each change is a command of the one pipeline,
recorded as an event of the log (``EVENT_TYPE_REGISTERED``, ...), so followers learn of
a new type as they learn of any fact.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Request, Response, get, post
from litestar.params import JSONBody, Parameter, QueryParameter

from hot.api import responses
from hot.api.auth import needs, public
from hot.api.catalog_models import (
    AddedOut,
    CheckedVersionOut,
    EventTypeBody,
    EventTypeOut,
    EventTypesOut,
    VersionBody,
    VersionOut,
)
from hot.api.commands import humans_of
from hot.api.conditions import idempotency
from hot.api.params import IdempotencyKeyHeader
from hot.infra.api_keys import Scope

AnyRequest = Request[Any, Any, Any]
TypeName = Annotated[str, Parameter(max_length=64, description="The type's name.")]
VersionNumber = Annotated[int, Parameter(ge=1, le=1_000_000, description="A version number.")]
CATALOG_COMMAND: dict[str, Any] = {
    "tags": ["catalog"],
    "responses": responses.CATALOG_COMMAND,
    **needs(Scope.CATALOG),
}
CATALOG_QUERY: dict[str, Any] = {"tags": ["catalog"], "responses": responses.CATALOG_QUERY}


@post("/catalog/types", status_code=201, **CATALOG_COMMAND)
async def register_type(
    data: JSONBody[EventTypeBody],
    request: AnyRequest,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[EventTypeOut]:
    """Register a team's event type; add a version to post events of it."""
    view = await humans_of(request).register_event_type(
        data.name,
        data.description,
        data.owner,
        data.compatibility,
        idempotency=idempotency(idempotency_key, request, data),
    )
    location = {"Location": f"/catalog/types/{view.name}"}
    return Response(EventTypeOut.of(view), status_code=201, headers=location)


@post("/catalog/types/{name:str}/versions", status_code=201, **CATALOG_COMMAND)
async def add_version(
    name: TypeName,
    data: JSONBody[VersionBody],
    request: AnyRequest,
    dry_run: Annotated[
        bool, QueryParameter(description="Only check the version: 200 with what it would break.")
    ] = False,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[AddedOut | CheckedVersionOut]:
    """Add the next version of a type (checked against the type's compatibility mode)."""
    humans = humans_of(request)
    if dry_run:
        check = await humans.check_event_type_version(name, data.schema_, data.upcast)
        return Response(CheckedVersionOut.of(check), status_code=200)
    number = await humans.add_event_type_version(
        name,
        data.schema_,
        data.upcast,
        expected=data.version,
        idempotency=idempotency(idempotency_key, request, data),
    )
    location = {"Location": f"/catalog/types/{name}/versions/{number}"}
    return Response(AddedOut(name=name, version=number), status_code=201, headers=location)


@post(
    "/catalog/types/{name:str}/versions/{version:int}/deprecate", status_code=200, **CATALOG_COMMAND
)
async def deprecate_version(
    name: TypeName,
    version: VersionNumber,
    request: AnyRequest,
    idempotency_key: IdempotencyKeyHeader = None,
) -> EventTypeOut:
    """Refuse new posts of a version (a problem then names the current one); still read."""
    keys = idempotency(idempotency_key, request, None)
    view = await humans_of(request).deprecate_event_type_version(name, version, idempotency=keys)
    return EventTypeOut.of(view)


@get("/catalog/types", **CATALOG_QUERY, **public())
async def list_types(request: AnyRequest) -> EventTypesOut:
    """Every team's event type, with its versions."""
    views = await humans_of(request).event_types()
    return EventTypesOut(types=[EventTypeOut.of(v) for v in views])


@get("/catalog/types/{name:str}", **CATALOG_QUERY, **public())
async def get_type(name: TypeName, request: AnyRequest) -> EventTypeOut:
    """One team's event type, with its versions."""
    return EventTypeOut.of(await humans_of(request).event_type(name))


@get("/catalog/types/{name:str}/versions/{version:int}", **CATALOG_QUERY, **public())
async def get_version(name: TypeName, version: VersionNumber, request: AnyRequest) -> VersionOut:
    """One version of a type: its schema (a CloudEvent's ``dataschema`` names this URL)."""
    return VersionOut.of(name, await humans_of(request).event_type_version(name, version))


ROUTES = [register_type, add_version, deprecate_version, list_types, get_type, get_version]
