"""The parameters handlers take, declared once: path ids, paging, headers, the application.

Numbers are bounded to 2**53 - 1: exact in every JSON parser, and within PostgreSQL's
bigint, so no value a client can send reaches the database as an overflow. Query
parameters are declared with ``QueryParameter``; any other query parameter is refused
(a typo such as ``?limt=10`` must not be silently ignored).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from litestar import Request
from litestar.di import NamedDependency
from litestar.handlers import BaseRouteHandler
from litestar.params import HeaderParameter, PathParameter, QueryParameter

from hot.application import HumansApplication
from hot.application.queries import MAX_PAGE
from hot.domain import InvalidQueryError

MAX_NUMBER = 2**53 - 1

HumanId = Annotated[UUID, PathParameter(description="The human's id.")]
Humans = NamedDependency[HumansApplication]

After = Annotated[
    int, QueryParameter(ge=0, le=MAX_NUMBER, description="Return what comes after this.")
]
Limit = Annotated[int, QueryParameter(ge=1, le=MAX_PAGE, description="At most this many.")]
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        pattern=r'^(\*|"[0-9]{1,15}")$',
        description='Only if the human is at this version: an ETag such as "3" (else 412).',
    ),
]
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        pattern=r"^[!-~]{1,255}$",
        description="A retry with the same key and body answers the same, recording nothing.",
    ),
]
Version = Annotated[
    int | None, QueryParameter(ge=1, le=MAX_NUMBER, description="The state at this version.")
]


# Kept on the handler itself: keyed by id(), a handler made by another app (each app
# copies its handlers) could take a collected one's id and be judged by its parameters;
# and route handlers (slotted) cannot be weakly referenced.
_QUERY_NAMES = "hot_query_names"


def query_names(handler: BaseRouteHandler) -> frozenset[str]:
    """The query parameters ``handler`` declares."""
    names: frozenset[str] | None = handler.opt.get(_QUERY_NAMES)
    if names is None:
        names = frozenset(
            field.kwarg_definition.name or name
            for name, field in handler.parsed_fn_signature.parameters.items()
            if isinstance(field.kwarg_definition, QueryParameter)
        )
        handler.opt[_QUERY_NAMES] = names
    return names


def reject_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """400 for a query parameter the endpoint does not take."""
    allowed = query_names(request.route_handler)
    unknown = sorted(set(request.query_params) - allowed)
    if unknown:
        takes = ", ".join(sorted(allowed)) or "none"
        raise InvalidQueryError(
            unknown[0], f"Unknown query parameter {unknown[0]!r}; this endpoint takes: {takes}."
        )
