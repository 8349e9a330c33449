"""``POST /humans/{id}/forget`` (scope ``admin``): the right to be forgotten, over HTTP.

Forgetting destroys the human's personal-data key in the same transaction that
records ``HUMAN_FORGOTTEN`` (``by`` the name of the API key that asked): from then on
their name, email and reasons read as ``"(forgotten)"`` everywhere, while the facts
(memberships, attendance) stay. Every later command about them is 410 Gone, a
second forget included: a client that retries a forget it lost the answer to learns
from that 410 that it was done (so no ``Idempotency-Key`` is needed here).

``If-Match`` is checked against the human's version just before forgetting: a
client can make sure it forgets the human it looked at.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from litestar import Request, Response, post

from hot.api import responses
from hot.api.auth import grant_of, needs
from hot.api.commands import answer
from hot.api.conditions import expected_version
from hot.api.models import CommandOut
from hot.api.params import HumanId, Humans, IfMatch
from hot.api.threads import in_thread
from hot.application import CommandResult, HumansApplication
from hot.domain import VersionMismatchError
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
    humans: Humans,
    if_match: IfMatch = None,
) -> Response[CommandOut]:
    """Forget the human for good: their personal data becomes unreadable, the facts stay.

    Needs the `admin` scope; the event records the API key's name as who forgot them.
    Any later command about the human, a second forget included, is 410 Gone.
    """
    by = grant_of(request).name
    expected = expected_version(if_match)
    return answer(await in_thread(forget_at, humans, human_id, by, expected))


def forget_at(
    humans: HumansApplication, human_id: UUID, by: str, expected: int | None
) -> CommandResult:
    """Forget the human if it is at version ``expected`` (any version if None)."""
    if expected is not None:
        current = humans.get_human(human_id).version
        if current != expected:
            raise VersionMismatchError(expected, current)
    return humans.forget(human_id, by=by)
