"""Query endpoints (scope ``read``): a human's state and history, humans found by email
or external id, and the global log.

Events are rendered by ``event_to_dict``, the one representation every reader sees.
Query parameters are bounded to what the database can take; whether a value makes
sense (a page too large, an unknown event name) is the application's call.

Personal fields (a human's name, email and external ids' values, a reason for leaving)
are shown only to tokens with the ``personal`` scope (or ``admin``); every other reader
gets them masked as ``"(personal)"``, on every route, at every version.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from litestar import Request, Response, get
from litestar.params import QueryParameter

from hot.api import responses
from hot.api.auth import needs, sees_personal
from hot.api.commands import humans_of
from hot.api.conditions import etag
from hot.api.models import CloudEventOut, CloudEventPage, EventOut, EventPage, HumanOut, HumansOut
from hot.api.params import After, HumanId, Limit, MinPosition, Version
from hot.application import RecordedEvent
from hot.application.representation import event_to_cloudevent, masked_human
from hot.domain import InvalidQueryError
from hot.domain.event_types import TYPE_NAME
from hot.infra.api_keys import Scope
from hot_follow.representation import event_to_dict, masked_event

AnyRequest = Request[Any, Any, Any]
# What every query route declares: the read scope and the errors it can answer.
QUERY: dict[str, Any] = {
    "tags": ["queries"],
    "responses": responses.QUERY,
    **needs(Scope.READ),
}


def page(events: Sequence[RecordedEvent], cursor: int | None, personal: bool) -> EventPage:
    """The events as the reader may see them: personal fields masked without ``personal``."""
    shown = events if personal else [masked_event(e) for e in events]
    return EventPage.model_construct(
        events=[EventOut.model_construct(**event_to_dict(e)) for e in shown], next=cursor
    )


@get("/humans/{human_id:str}", **QUERY)
async def get_human(
    human_id: HumanId,
    request: AnyRequest,
    version: Version = None,
    as_of: Annotated[
        datetime | None,
        QueryParameter(
            description="The state as recorded at this instant (RFC 3339, with offset); "
            "not with version."
        ),
    ] = None,
) -> Response[HumanOut]:
    """The human's state, with its version as ``ETag``.

    Name and email read as ``"(personal)"`` unless the token has the ``personal`` scope.
    """
    if version is not None and as_of is not None:
        raise InvalidQueryError("as_of", "Give version or as_of, not both.")
    if as_of is not None:
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise InvalidQueryError("as_of", "as_of needs a UTC offset, e.g. 2026-01-05T10:00:00Z.")
        view = await humans_of(request).get_human_as_of(human_id, as_of)
    else:
        view = await humans_of(request).get_human(human_id, version=version)
    shown = view if sees_personal(request) else masked_human(view)
    return Response(HumanOut.of(shown), headers={"ETag": etag(view.version)})


@get("/humans", **QUERY)
async def find_humans(
    request: AnyRequest,
    email: Annotated[
        str | None,
        QueryParameter(
            max_length=320,
            description="The human with this email (case aside); not with external_id.",
        ),
    ] = None,
    external_id: Annotated[
        str | None,
        QueryParameter(
            max_length=200,
            description="The human with this external id, written <scheme>:<value> "
            "(ecode:E123); not with email.",
        ),
    ] = None,
) -> HumansOut:
    """The human found by email or by external id: `{"humans": [...]}`, none or one.

    Give exactly one of `email` and `external_id`. Personal fields read as
    ``"(personal)"`` unless the token has the ``personal`` scope.
    """
    humans = humans_of(request)
    if (email is None) == (external_id is None):
        raise InvalidQueryError(
            "email", "Give one of email and external_id (not both, not neither)."
        )
    if email is not None:
        found = await humans.find_by_email(email)
    else:
        scheme, colon, value = (external_id or "").partition(":")
        if not colon:
            raise InvalidQueryError(
                "external_id", "external_id is written <scheme>:<value>, e.g. ecode:E123."
            )
        found = await humans.find_by_external_id(scheme, value)
    shown = found if sees_personal(request) else [masked_human(h) for h in found]
    return HumansOut.model_construct(humans=[HumanOut.of(h) for h in shown])


@get("/humans/{human_id:str}/events", **QUERY)
async def history(
    human_id: HumanId,
    request: AnyRequest,
    after: After = 0,
    limit: Limit = 100,
    min_position: MinPosition = 0,
) -> EventPage:
    """The human's events after sequence ``after``, oldest first.

    Personal fields read as ``"(personal)"`` unless the token has the ``personal`` scope.
    """
    personal = sees_personal(request)
    humans = humans_of(request)
    events = await humans.history(
        human_id, after=after, limit=limit, personal=personal, min_position=min_position
    )
    full = len(events) == limit
    return page(events, events[-1].sequence if full else None, personal)


@get("/events", **(QUERY | {"responses": responses.LOG}))
async def read_log(
    request: AnyRequest,
    after: After = 0,
    limit: Limit = 100,
    min_position: MinPosition = 0,
    name: Annotated[
        list[str] | None,
        QueryParameter(
            description="Only events of these names (repeat for several); all if none.",
            schema_extra={
                "oneOf": [
                    {"type": "array", "items": {"type": "string", "pattern": TYPE_NAME.pattern}}
                ]
            },
        ),
    ] = None,
    as_version: Annotated[
        Literal["latest"] | None,
        QueryParameter(
            description="latest: teams' events of older versions upcast to their type's latest "
            "version. By default every event reads exactly as it was posted."
        ),
    ] = None,
    format: Annotated[
        Literal["cloudevents"] | None,
        QueryParameter(
            description="cloudevents: each event as a CloudEvent 1.0, structured JSON "
            "(`source` is this API's base URL). By default HoT's own representation."
        ),
    ] = None,
) -> EventPage | CloudEventPage:
    """The global log after position ``after``; positions may have gaps, paging skips none.

    Personal fields read as ``"(personal)"`` unless the token has the ``personal`` scope.
    """
    names, personal = tuple(name or ()), sees_personal(request)
    humans = humans_of(request)
    log_page = await humans.read_log(
        after=after, limit=limit, names=names, personal=personal, min_position=min_position
    )
    events = await humans.as_latest(log_page.events) if as_version == "latest" else log_page.events
    if format == "cloudevents":
        shown = events if personal else [masked_event(e) for e in events]
        base = str(request.base_url)
        return CloudEventPage.model_construct(
            cloudevents=[
                CloudEventOut.model_construct(**event_to_cloudevent(e, base)) for e in shown
            ],
            next=log_page.next,
        )
    return page(events, log_page.next, personal)
