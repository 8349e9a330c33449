"""Command endpoints (scope ``write``): each translates HTTP to one application call and back.

Every command answers ``{"id", "version", "position"}`` with the human's new ``ETag``.
``If-Match`` and ``Idempotency-Key`` work on all of them (see ``conditions``). Headers
and bodies are read on the event loop; the application call, which blocks on
PostgreSQL, runs in a worker thread, where group commit gathers concurrent calls.
``attend``, ``join`` and ``leave`` about a human the process knows are decided on the
event loop instead (``hot.application.loop_commands``), falling back to that thread.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial
from typing import Any, cast

from litestar import MediaType, Request, Response, patch, post
from litestar.params import JSONBody

from hot.api import responses
from hot.api.auth import needs
from hot.api.conditions import etag, expected_version, idempotency
from hot.api.models import (
    AttendBody,
    ChangeDetailsBody,
    CommandOut,
    EnvelopeBody,
    JoinBody,
    LeaveBody,
    RegisterBody,
)
from hot.api.params import HumanId, Humans, IdempotencyKey, IfMatch
from hot.api.threads import in_thread, on_loop
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
    humans: Humans,
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandOut]:
    """Register a new human; ``Location`` names it."""
    command = partial(humans.register, data.name, data.email, data.kind)
    return answer(
        await in_thread(command, idempotency=idempotency(idempotency_key, request, data)), 201
    )


@post("/humans/{human_id:str}/join", status_code=200, **COMMAND)
async def join(
    human_id: HumanId,
    data: JSONBody[JoinBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandOut]:
    """Start a membership on ``on``, in ``role``."""
    humans = humans_of(request)
    loop = humans.on_loop
    return await decided(
        partial(humans.join, human_id, data.on, data.role),
        None if loop is None else partial(loop.join, human_id, data.on, data.role),
        conditions(request, data, if_match, idempotency_key),
    )


@post("/humans/{human_id:str}/leave", status_code=200, **COMMAND)
async def leave(
    human_id: HumanId,
    data: JSONBody[LeaveBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandOut]:
    """End the current membership; ``on`` is its last day."""
    humans = humans_of(request)
    loop = humans.on_loop
    return await decided(
        partial(humans.leave, human_id, data.on, data.reason),
        None if loop is None else partial(loop.leave, human_id, data.on, data.reason),
        conditions(request, data, if_match, idempotency_key),
    )


@post("/humans/{human_id:str}/attend", status_code=200, **COMMAND)
async def attend(
    human_id: HumanId,
    data: JSONBody[AttendBody],
    request: AnyRequest,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandOut]:
    """Record that the human attended on ``on``."""
    humans = humans_of(request)
    loop = humans.on_loop
    return await decided(
        partial(humans.attend, human_id, data.on),
        None if loop is None else partial(loop.attend, human_id, data.on),
        conditions(request, data, if_match, idempotency_key),
    )


@patch("/humans/{human_id:str}", **COMMAND)
async def change_details(
    human_id: HumanId,
    data: JSONBody[ChangeDetailsBody],
    request: AnyRequest,
    humans: Humans,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandOut]:
    """Change the human's name and/or email."""
    command = partial(humans.change_details, human_id, data.name, data.email)
    return answer(await in_thread(command, **conditions(request, data, if_match, idempotency_key)))


@post("/events", status_code=200, **COMMAND)
async def record_event(
    data: JSONBody[EnvelopeBody],
    request: AnyRequest,
    humans: Humans,
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKey = None,
) -> Response[CommandOut]:
    """Record an event envelope of any catalog type; posting it again records nothing new."""
    envelope = Envelope(id=data.id, name=data.name, version=data.version, payload=data.payload)
    return answer(
        await in_thread(
            humans.record, envelope, **conditions(request, data, if_match, idempotency_key)
        )
    )


async def decided(
    command: Callable[..., CommandResult],
    on_loop_command: Callable[..., Awaitable[CommandResult]] | None,
    kwargs: dict[str, Any],
) -> Response[CommandOut]:
    """The answer of ``on_loop_command``, decided on the event loop with ``command`` (in
    a worker thread) as its fallback; of ``command`` alone where the application has no
    event-loop path."""
    if on_loop_command is None:
        return answer(await in_thread(command, **kwargs))
    return answer(await on_loop(on_loop_command, **kwargs, otherwise=partial(command, **kwargs)))


def humans_of(request: AnyRequest) -> HumansApplication:
    """The application, for the routes that answer most often: read from the app's
    state, which costs a request less than a dependency resolved by Litestar."""
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
