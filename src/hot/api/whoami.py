"""``GET /auth/me``: what the request's token may do, for a client that adapts to it.

Any valid token may ask (whatever its scopes): the web console signs in with it, and
shows or hides what the scopes allow. It tells the key's name and scopes, never the
token or its hash.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, get

from hot.api import responses
from hot.api.auth import grant_of, signed_in
from hot.api.models import TokenOut


@get(
    "/auth/me",
    tags=["auth"],
    responses=responses.problems(400, 401, 503),
    sync_to_thread=False,
    **signed_in(),
)
def whoami(request: Request[Any, Any, Any]) -> TokenOut:
    """The token's key name and scopes (any valid token may ask)."""
    grant = grant_of(request)
    return TokenOut(name=grant.name, scopes=sorted(grant.scopes))
