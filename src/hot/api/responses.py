"""The error responses each kind of route documents in the OpenAPI document."""

from __future__ import annotations

from litestar.openapi import ResponseSpec

from hot.api.models import CommandOut, ProblemOut
from hot.api.problems import PROBLEM_JSON

_DESCRIPTIONS = {
    400: "Malformed request: a bad path, query or header value (the field is named).",
    401: "Missing, unknown or revoked bearer token.",
    403: "The token lacks the scope this endpoint needs.",
    404: "No such human (or not at the version asked for).",
    409: "A rule of the domain forbids this (the rule is named).",
    410: "The human has been forgotten: nothing more can be recorded about them.",
    412: "If-Match names a version the human is no longer at.",
    413: "The body is larger than 65,536 bytes, the most a request may send.",
    415: "The body is not sent as JSON (Content-Type: application/json).",
    422: "The body is not what this endpoint takes (the field is named).",
    503: "The database cannot be reached; retry after Retry-After seconds.",
}


def problems(*statuses: int) -> dict[int, ResponseSpec]:
    """OpenAPI responses for ``statuses``, each an RFC 9457 problem."""
    return {
        status: ResponseSpec(
            data_container=ProblemOut,
            description=_DESCRIPTIONS[status],
            media_type=PROBLEM_JSON,
            generate_examples=False,
        )
        for status in statuses
    }


AUTHENTICATED = (400, 401, 403, 503)
QUERY = problems(*AUTHENTICATED, 404)
WITH_A_BODY = (413, 415)
COMMAND = problems(*AUTHENTICATED, *WITH_A_BODY, 404, 409, 410, 412, 422)
FORGET = problems(*AUTHENTICATED, 404, 410, 412, 422)
REGISTRATION = problems(*AUTHENTICATED, *WITH_A_BODY, 409, 422)
LOG = problems(*AUTHENTICATED)
CATALOG_COMMAND = problems(*AUTHENTICATED, *WITH_A_BODY, 404, 409, 422)
CATALOG_QUERY = problems(400, 404, 503)
# POST /events answers 201 when it records the envelope, 200 when it was recorded before.
ENVELOPE = COMMAND | {
    200: ResponseSpec(
        data_container=CommandOut,
        description="This envelope was already recorded: the first answer, nothing new.",
    )
}
