"""Command endpoints (scope ``write``): each translates HTTP to one application call and back.

Every command answers ``{"id", "version", "position"}`` with the human's new ``ETag``.
``If-Match`` and ``Idempotency-Key`` work on all of them (see ``conditions``). How a
command is decided and committed is the application's business (its one pipeline).
"""

from __future__ import annotations

from typing import Any, cast

from litestar import MediaType, Request, Response, patch, post, put
from litestar.params import JSONBody

from hot.api import responses
from hot.api.auth import needs
from hot.api.conditions import etag, expected_version, idempotency
from hot.api.models import (
    AttendBody,
    ChangeDetailsBody,
    CommandOut,
    EnvelopeBody,
    ExternalIdBody,
    JoinBody,
    LeaveBody,
    RegisterBody,
)
from hot.api.params import HumanId, IdempotencyKeyHeader, IfMatch, Scheme
from hot.application import CommandResult, Envelope, HumansApplication
from hot.infra.api_keys import Scope

AnyRequest = Request[Any, Any, Any]
HUMANS = "hot_humans"  # the key of the application in the app's state (see ``humans_of``)
# What every command route declares: the write scope and the errors it can answer.
COMMAND: dict[str, Any] = {
    "tags": ["commands"],
    "responses": responses.COMMAND,
    **needs(Scope.WRITE),
}


def answer(result: CommandResult, status: int = 200) -> Response[CommandOut]:
    """The command's answer: ``CommandOut`` as JSON (written here, the same bytes the
    encoder would give), with the human's ``ETag``."""
    headers = {"ETag": etag(result.version)}
    if status == 201:
        headers["Location"] = f"/humans/{result.id}"
    body = b'{"id":"%s","version":%d,"position":%d}' % (
        str(result.id).encode(),
        result.version,
        result.position,
    )
    return cast(
        Response[CommandOut],
        Response(body, status_code=status, headers=headers, media_type=MediaType.JSON),
    )


@post("/humans", status_code=201, **(COMMAND | {"responses": responses.REGISTRATION}))
async def register(
    data: JSONBody[RegisterBody],
    request: AnyRequest,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Register a new human; ``Location`` names it."""
    idempotency_keys = idempotency(idempotency_key, request, data)
    result = await humans_of(request).register(
        data.name, data.email, data.kind, idempotency=idempotency_keys
    )
    return answer(result, 201)


@post("/humans/{human_id:str}/join", status_code=200, **COMMAND)
async def join(
    human_id: HumanId,
    data: JSONBody[JoinBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Start a membership on ``on``, in ``role``."""
    given = conditions(request, data, if_match, idempotency_key)
    return answer(await humans_of(request).join(human_id, data.on, data.role, **given))


@post("/humans/{human_id:str}/leave", status_code=200, **COMMAND)
async def leave(
    human_id: HumanId,
    data: JSONBody[LeaveBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """End the current membership; ``on`` is its last day."""
    given = conditions(request, data, if_match, idempotency_key)
    return answer(await humans_of(request).leave(human_id, data.on, data.reason, **given))


@post("/humans/{human_id:str}/attend", status_code=200, **COMMAND)
async def attend(
    human_id: HumanId,
    data: JSONBody[AttendBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Record that the human attended on ``on``."""
    given = conditions(request, data, if_match, idempotency_key)
    return answer(await humans_of(request).attend(human_id, data.on, **given))


@patch("/humans/{human_id:str}", **COMMAND)
async def change_details(
    human_id: HumanId,
    data: JSONBody[ChangeDetailsBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Change the human's name and/or email."""
    given = conditions(request, data, if_match, idempotency_key)
    humans = humans_of(request)
    return answer(await humans.change_details(human_id, data.name, data.email, **given))


@put("/humans/{human_id:str}/external-ids/{scheme:str}", status_code=200, **COMMAND)
async def set_external_id(
    human_id: HumanId,
    scheme: Scheme,
    data: JSONBody[ExternalIdBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Set the human's id in ``scheme`` (``ecode``, say); unique within the scheme (else 409).

    A new value replaces the old one, which another human may then take.
    """
    given = conditions(request, data, if_match, idempotency_key)
    humans = humans_of(request)
    return answer(await humans.set_external_id(human_id, scheme, data.value, **given))


@post("/events", status_code=201, **(COMMAND | {"responses": responses.ENVELOPE}))
async def record_event(
    data: JSONBody[EnvelopeBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Record an event envelope of any catalog type: 201 when recorded, 200 with the same
    answer when this envelope was already recorded (posting it again records nothing new)."""
    envelope = Envelope(id=data.id, name=data.name, version=data.version, payload=data.payload)
    given = conditions(request, data, if_match, idempotency_key)
    result = await humans_of(request).record(envelope, **given)
    return answer(result, 200 if result.already_recorded else 201)


def humans_of(request: AnyRequest) -> HumansApplication:
    """The application, read from the app's state (cheaper per request than a dependency
    resolved by Litestar)."""
    humans: HumansApplication = request.app.state[HUMANS]
    return humans


def conditions(
    request: AnyRequest, data: Any, if_match: str | None, key: str | None
) -> dict[str, Any]:
    """The keyword arguments ``If-Match`` and ``Idempotency-Key`` give a command."""
    return {
        "expected_version": expected_version(if_match),
        "idempotency": idempotency(key, request, data),
    }
