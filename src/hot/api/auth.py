"""Bearer-token authorisation: one guard for the whole app, closed by default.

A route declares what it needs in its ``opt``: ``public=True`` (no token), or
``scope=Scope.READ`` / ``Scope.WRITE``; a route that declares nothing needs ``admin``.
``OPTIONS`` requests need no token: they only say which methods a path allows.
A missing or unknown token is 401, a token without the scope 403.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Guard

from hot.infra.api_keys import ApiKeyStore, Scope, allows

SECURITY_SCHEME = "bearer"
SECURITY_COMPONENTS = Components(
    security_schemes={
        SECURITY_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description="An API token (`hot keys create NAME --scope read`).",
        )
    }
)


def public() -> dict[str, Any]:
    """``opt`` of a route that anyone may call."""
    return {"opt": {"public": True}}


def needs(scope: Scope) -> dict[str, Any]:
    """``opt`` and OpenAPI ``security`` of a route that needs ``scope``."""
    return {"opt": {"scope": scope}, "security": [{SECURITY_SCHEME: []}]}


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or 401."""
    if not header:
        raise NotAuthorizedException("This endpoint needs an Authorization: Bearer token.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def scope_guard(keys: ApiKeyStore) -> Guard:
    """The guard that checks every non-public route's token and scope against ``keys``."""

    async def guard(
        connection: ASGIConnection[Any, Any, Any, Any], route: BaseRouteHandler
    ) -> None:
        if route.opt.get("public") or connection.scope.get("method") == "OPTIONS":
            return  # OPTIONS only tells which methods a path allows
        needed = Scope(route.opt.get("scope", Scope.ADMIN))
        token = bearer_token(connection.headers.get("authorization"))
        hit, scopes = keys.cached(token)
        if not hit:
            scopes = await anyio.to_thread.run_sync(keys.verify, token)
        if scopes is None:
            raise NotAuthorizedException("The token is unknown or has been revoked.")
        if not allows(scopes, needed):
            raise PermissionDeniedException(f"This endpoint needs the {needed!s} scope.")

    return guard
