"""The parameters handlers take, declared once: path ids, paging, headers, the application.

Numbers are bounded to 2**53 - 1: exact in every JSON parser, and within PostgreSQL's
bigint, so no value a client can send reaches the database as an overflow. Query
parameters are declared with ``QueryParameter``; any other query parameter is refused
(a typo such as ``?limt=10`` must not be silently ignored), and so is one that takes a
single value given twice, or a number not written as digits (``1e3``, ``0.0``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from uuid import UUID

from litestar import Request
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler
from litestar.openapi.spec import OpenAPIType
from litestar.params import HeaderParameter, PathParameter, QueryParameter
from litestar.typing import FieldDefinition

from hot.domain import InvalidQueryError
from hot.domain.values import EXTERNAL_ID_SCHEME
from hot_follow.events import MAX_PAGE

MAX_NUMBER = 2**53 - 1
MAX_BODY_BYTES = 64 * 1024  # a request's body: a command is a few hundred bytes

MAX_VERSION_DIGITS = 15  # an If-Match version: within MAX_NUMBER
# An optional header is absent or a string: never null (a header cannot be). Without this
# the document says ``oneOf: [string, null]``, and generated clients send "null".
A_STRING_HEADER: dict[str, Any] = {"type": OpenAPIType.STRING, "one_of": None}
HumanId = Annotated[UUID, PathParameter(description="The human's id.")]
Scheme = Annotated[
    str,
    PathParameter(
        pattern=EXTERNAL_ID_SCHEME,
        description="An external id's scheme (ecode, say): a lowercase letter, then up to 31 "
        "lowercase letters, digits, '_' or '-'.",
    ),
]

# Each parameter is checked once: its format here, whether its value makes sense (a page
# size, a version) by the application; the document states both.
After = Annotated[
    int,
    QueryParameter(
        le=MAX_NUMBER, schema_extra={"minimum": 0}, description="Return what comes after this."
    ),
]
MinPosition = Annotated[
    int,
    QueryParameter(
        le=MAX_NUMBER,
        schema_extra={"minimum": 0},
        description="Read-your-writes: the answer holds the log at least up to this position "
        "(a command's answer's `position`); a replica waits briefly for it, else the primary "
        "answers.",
    ),
]
Limit = Annotated[
    int,
    QueryParameter(
        le=MAX_NUMBER,
        schema_extra={"minimum": 1, "maximum": MAX_PAGE},
        description="At most this many.",
    ),
]
# What each header's pattern means, in words: a refusal names the format, not a regex.
HEADER_FORMATS = {
    "If-Match": 'an ETag such as "3" (quotes included, up to 15 digits), or *',
    "Idempotency-Key": "1 to 255 visible ASCII characters (no spaces)",
}
IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="If-Match",
        pattern=rf'^(\*|"[0-9]{{1,{MAX_VERSION_DIGITS}}}")$',
        schema_extra=A_STRING_HEADER,
        description='Only if the human is at this version: an ETag such as "3" (else 412).',
    ),
]
IdempotencyKeyHeader = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        pattern=r"^[!-~]{1,255}$",
        schema_extra=A_STRING_HEADER,
        description="A retry with the same key and body answers the same, recording nothing.",
    ),
]
Version = Annotated[
    int | None,
    QueryParameter(
        le=MAX_NUMBER,
        schema_extra={"minimum": 1},
        description="The state at this version; not with as_of (they exclude each other).",
    ),
]


# Kept on the handler itself: keyed by id(), a handler made by another app (each app
# copies its handlers) could take a collected one's id and be judged by its parameters;
# and route handlers (slotted) cannot be weakly referenced.
_QUERY_PARAMETERS = "hot_query_parameters"
_WHOLE_NUMBER = re.compile(r"-?[0-9]+")


@dataclass(frozen=True)
class _Query:
    repeatable: bool  # a list: the parameter may be given more than once
    whole_number: bool  # an int: its text must be digits (not "1e3", "0.0", " 1")


def query_parameters(handler: BaseRouteHandler) -> dict[str, _Query]:
    """The query parameters ``handler`` declares, by name."""
    found: dict[str, _Query] | None = handler.opt.get(_QUERY_PARAMETERS)
    if found is None:
        found = {
            field.kwarg_definition.name or name: _Query(
                field.is_non_string_sequence
                or any(inner.is_non_string_sequence for inner in field.inner_types),
                _integer(field),
            )
            for name, field in handler.parsed_fn_signature.parameters.items()
            if isinstance(field.kwarg_definition, QueryParameter)
        }
        handler.opt[_QUERY_PARAMETERS] = found
    return found


def _integer(field: FieldDefinition) -> bool:
    """An int (or an optional one), not a bool: Python's bool is an int, its text is not."""
    return not (field.is_subclass_of(bool) or field.has_inner_subclass_of(bool)) and (
        field.is_subclass_of(int) or field.has_inner_subclass_of(int)
    )


def reject_unknown_query_parameters(request: Request[Any, Any, Any]) -> None:
    """400 for a query parameter the endpoint does not take, one it takes once given
    more than once, or a number that is not written as a whole number: a query is
    taken as written, or refused, never reinterpreted."""
    declared = query_parameters(request.route_handler)
    given = request.query_params
    unknown = sorted(set(given) - set(declared))
    if unknown:
        takes = ", ".join(sorted(declared)) or "none"
        raise InvalidQueryError(
            unknown[0], f"Unknown query parameter {unknown[0]!r}; this endpoint takes: {takes}."
        )
    for name in sorted(given):
        values, query = given.getall(name), declared[name]
        if len(values) > 1 and not query.repeatable:
            raise InvalidQueryError(name, f"{name!r} takes one value, given more than once.")
        if query.whole_number and not all(_WHOLE_NUMBER.fullmatch(v) for v in values):
            raise InvalidQueryError(name, f"{name!r} must be a whole number, such as 42.")


JSON_MEDIA_TYPE = re.compile(r"application/(?:[\w.+-]+\+)?json", re.IGNORECASE)


def require_json_body(request: Request[Any, Any, Any]) -> None:
    """415 for a request to a route that takes a body, whose Content-Type is not JSON
    (missing, or ``text/plain``): a body is read as what it says it is, or refused."""
    if "data" not in request.route_handler.parsed_fn_signature.parameters:
        return
    media_type = request.headers.get("content-type", "").split(";")[0].strip()
    if not JSON_MEDIA_TYPE.fullmatch(media_type):
        said = f"Content-Type {media_type!r}" if media_type else "no Content-Type"
        raise HTTPException(
            status_code=415,
            detail=f"The body must be JSON, sent with Content-Type: application/json ({said}).",
        )
