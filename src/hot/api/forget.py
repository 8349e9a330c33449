"""``POST /humans/{id}/forget`` (scope ``admin``): the right to be forgotten, over HTTP.

Forgetting destroys the human's personal-data key in the same transaction that
records ``HUMAN_FORGOTTEN`` (``by`` the name of the API key that asked): from then on
their name, email and reasons read as ``"(forgotten)"`` everywhere, while the facts
(memberships, attendance) stay. Every later command about them is 410 Gone, a
second forget included.

As on every command, ``If-Match`` makes sure the client forgets the human it looked
at: the version is checked on the state the forgetting is decided on, and a write in
between makes the forgetting fail with 412 rather than pass. An ``Idempotency-Key``
makes a retry get the first answer (not 410), stored in the forgetting's transaction;
the same key on another request is 422.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, post

from hot.api import responses
from hot.api.auth import grant_of, needs
from hot.api.commands import answer, conditions, humans_of
from hot.api.models import CommandOut
from hot.api.params import HumanId, IdempotencyKeyHeader, IfMatch
from hot.infra.api_keys import Scope


@post(
    "/humans/{human_id:str}/forget",
    status_code=200,
    tags=["commands"],
    responses=responses.FORGET,
    **needs(Scope.ADMIN),
)
async def forget(
    human_id: HumanId,
    request: Request[Any, Any, Any],
    if_match: IfMatch = None,
    idempotency_key: IdempotencyKeyHeader = None,
) -> Response[CommandOut]:
    """Forget the human for good: their personal data becomes unreadable, the facts stay.

    Needs the `admin` scope; the event records the API key's name as who forgot them.
    Any later command about the human, a second forget included, is 410 Gone; a retry
    with the same `Idempotency-Key` gets the first answer instead.
    """
    given = conditions(request, None, if_match, idempotency_key)
    return answer(await humans_of(request).forget(human_id, by=grant_of(request).name, **given))
