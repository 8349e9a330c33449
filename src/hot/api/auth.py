"""Bearer-token authorisation: one guard for the whole app, closed by default.

A route declares what it needs in its ``opt``: ``public=True`` (no token), or
``scope=Scope.READ`` / ``Scope.WRITE``, or ``any_scope=True`` (a valid token, whatever
its scopes: ``GET /auth/me``); a route that declares nothing needs ``admin``.
``OPTIONS`` requests need no token: they only say which methods a path allows.
A missing or unknown token is 401, a token without the scope 403.
A route with ``token_in_query=True`` in its ``opt`` (the live feed: a browser's
``EventSource`` cannot send headers) also takes the token as ``?access_token=``, the
query form of RFC 6750 section 2.3; a request may not carry it both ways.

The guard leaves the verified ``Grant`` (key name and scopes) on the connection's
state: ``grant_of`` reads it (a command records who did it), ``sees_personal`` says
whether the reader may see personal fields (scope ``personal``, implied by ``admin``).
A connection no guard verified sees nothing personal: closed by default here too.
"""

from __future__ import annotations

from typing import Any

import anyio.to_thread
from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Guard

from hot.infra.api_keys import ApiKeyStore, Grant, Scope, allows

SECURITY_SCHEME = "bearer"
QUERY_SECURITY_SCHEME = "access_token"
QUERY_TOKEN = "access_token"  # the query parameter of RFC 6750 section 2.3
SECURITY_COMPONENTS = Components(
    security_schemes={
        QUERY_SECURITY_SCHEME: SecurityScheme(
            type="apiKey",
            security_scheme_in="query",
            name=QUERY_TOKEN,
            description=(
                "The same token as a query parameter, only where a client cannot send "
                "headers (a browser's EventSource on the live feed). URLs end up in logs "
                "and histories: give such clients a `read`-only token."
            ),
        ),
        SECURITY_SCHEME: SecurityScheme(
            type="http",
            scheme="bearer",
            description=(
                "An API token (`hot keys create NAME --scope read`). Scopes: `read`, "
                "`write`, `personal`, `catalog` (teams' event types), `admin` (all of them). "
                "Without `personal`, every "
                'read shows personal fields (name, email, reason) as `"(personal)"`.'
            ),
        ),
    }
)


GRANT = "hot_grant"  # the key of the verified Grant in the connection's state
AnyConnection = ASGIConnection[Any, Any, Any, Any]


def public() -> dict[str, Any]:
    """``opt`` of a route that anyone may call."""
    return {"opt": {"public": True}}


def signed_in() -> dict[str, Any]:
    """``opt`` and OpenAPI ``security`` of a route that any valid token may call."""
    return {"opt": {"any_scope": True}, "security": [{SECURITY_SCHEME: []}]}


def needs(scope: Scope, *, token_in_query: bool = False) -> dict[str, Any]:
    """``opt`` and OpenAPI ``security`` of a route that needs ``scope``; with
    ``token_in_query`` the token may also come as ``?access_token=``."""
    if not token_in_query:
        return {"opt": {"scope": scope}, "security": [{SECURITY_SCHEME: []}]}
    return {
        "opt": {"scope": scope, "token_in_query": True},
        "security": [{SECURITY_SCHEME: []}, {QUERY_SECURITY_SCHEME: []}],
    }


def bearer_token(header: str | None) -> str:
    """The token of an ``Authorization: Bearer <token>`` header, or 401."""
    if not header:
        raise NotAuthorizedException("This endpoint needs an Authorization: Bearer token.")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise NotAuthorizedException("The Authorization header must be 'Bearer <token>'.")
    return token.strip()


def request_token(connection: AnyConnection, *, in_query: bool) -> str:
    """The request's token: from its Authorization header or, where the route takes
    it, from ``?access_token=`` (never both); 401 when it has none."""
    header = connection.headers.get("authorization")
    if not in_query or QUERY_TOKEN not in connection.query_params:
        return bearer_token(header)
    if header:
        raise NotAuthorizedException(
            "Send the token once: in the Authorization header or as ?access_token=, not both."
        )
    token = str(connection.query_params[QUERY_TOKEN]).strip()
    if not token:
        raise NotAuthorizedException("?access_token= is empty.")
    return token


def scope_guard(api_keys: ApiKeyStore) -> Guard:
    """The guard that checks every non-public route's token and scope against ``api_keys``."""

    async def guard(connection: AnyConnection, route: BaseRouteHandler) -> None:
        if route.opt.get("public") or connection.scope.get("method") == "OPTIONS":
            return  # OPTIONS only tells which methods a path allows
        needed = Scope(route.opt.get("scope", Scope.ADMIN))
        token = request_token(connection, in_query=bool(route.opt.get("token_in_query")))
        hit, grant = api_keys.cached(token)
        if not hit:
            grant = await anyio.to_thread.run_sync(api_keys.identify, token)
        if grant is None:
            raise NotAuthorizedException("The token is unknown or has been revoked.")
        if not route.opt.get("any_scope") and not allows(grant.scopes, needed):
            raise PermissionDeniedException(f"This endpoint needs the {needed!s} scope.")
        connection.state[GRANT] = grant

    return guard


def grant_of(connection: AnyConnection) -> Grant:
    """The key the guard verified for this request (a route without a guard has none)."""
    grant = connection.state.get(GRANT)
    if not isinstance(grant, Grant):
        raise NotAuthorizedException("This request carries no verified token.")
    return grant


def sees_personal(connection: AnyConnection) -> bool:
    """Whether this request's reader may see personal fields unmasked."""
    grant = connection.state.get(GRANT)
    return isinstance(grant, Grant) and allows(grant.scopes, Scope.PERSONAL)
