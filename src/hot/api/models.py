"""Request and response bodies of the HTTP API (pydantic, here only).

Request models check shape: types, required fields, no unknown fields, sizes that
bound a request. Whether a value makes sense (a blank name, an email's syntax, a
date before a membership) is the domain's call, not repeated here. Numbers, dates
and identifiers must come as JSON numbers and strings of their exact format, so the
API accepts exactly what its OpenAPI document says.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, ClassVar
from uuid import UUID

from litestar.openapi.spec import Schema
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from hot.application import CommandResult, EventTypeInfo, HumanView
from hot.application.envelopes import REGISTRATION
from hot.application.representation import schema_path
from hot.domain import HumanKind
from hot.domain.values import MAX_EXTERNAL_ID

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_day(value: object) -> object:
    if isinstance(value, date) or (isinstance(value, str) and _DAY.fullmatch(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


def _json_integer(value: object) -> object:
    # Litestar validates bodies with strict=False, which overrides StrictInt: check here.
    if type(value) is int:
        return value
    raise ValueError("must be a JSON integer")


Day = Annotated[date, BeforeValidator(_iso_day), Field(examples=["2026-01-05"])]
Name = Annotated[str, Field(max_length=200, examples=["Hari Seldon"])]
Email = Annotated[
    str,
    # The example goes in json_schema_extra: Litestar's plugin writes a field's examples
    # back into json_schema_extra when it has both, so each app built would add it again.
    Field(
        max_length=320,
        json_schema_extra={"format": "email", "examples": ["hari@trantor.example"]},
    ),
]
Role = Annotated[str, Field(max_length=200, examples=["psychohistorian"])]
Reason = Annotated[str, Field(max_length=2000)]


class Body(BaseModel):
    """A request body: a JSON object with only the fields named."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class RegisterBody(Body):
    name: Name
    email: Email
    kind: HumanKind


class JoinBody(Body):
    on: Day
    role: Role


class LeaveBody(Body):
    on: Day
    reason: Reason | None = None


class AttendBody(Body):
    on: Day


class ChangeDetailsBody(Body):
    name: Name | None = None
    email: Email | None = None


class ExternalIdBody(Body):
    value: str = Field(
        description=f"The human's id in the scheme: 1 to {MAX_EXTERNAL_ID} characters, "
        "no control characters; unique within the scheme.",
        examples=["E123"],
    )


class EnvelopeBody(Body):
    """An event of any catalog type; events about an existing human carry ``human_id``."""

    id: UUID = Field(description="The event's id, chosen by the client.")
    name: str = Field(max_length=100, examples=["HUMAN_ATTENDED"])
    version: Annotated[int, BeforeValidator(_json_integer), Field(ge=1, le=1_000_000)]
    payload: dict[str, Any] = Field(
        description="The event's fields; human_id (a UUID) names the human, and is needed "
        "by every event but HUMAN_REGISTERED (which may choose it).",
        json_schema_extra={"properties": {"human_id": {"type": "string", "format": "uuid"}}},
    )

    # Said in the document as the API checks it: human_id in every payload but a
    # registration's (see ``hot.api.schema``).
    openapi_extra: ClassVar[dict[str, Schema]] = {
        "schema_if": Schema(properties={"name": Schema(schema_not=Schema(const=REGISTRATION))}),
        "then": Schema(properties={"payload": Schema(required=["human_id"])}),
    }


# Responses --------------------------------------------------------------------------


class CommandOut(BaseModel):
    """What a command recorded: the human, its new version, the log position."""

    id: UUID
    version: int
    position: int

    @classmethod
    def of(cls, result: CommandResult) -> CommandOut:
        return cls.model_construct(id=result.id, version=result.version, position=result.position)


class MembershipOut(BaseModel):
    joined_on: date
    left_on: date | None
    role: str


class HumanOut(BaseModel):
    id: UUID
    version: int
    name: str
    email: str
    kind: HumanKind
    status: str = Field(json_schema_extra={"enum": ["registered", "member", "former"]})
    memberships: list[MembershipOut]
    attended_days: list[date]
    external_ids: dict[str, str] = Field(
        description="The human's ids in external schemes, by scheme (values are personal)."
    )

    @classmethod
    def of(cls, view: HumanView) -> HumanOut:
        return cls(
            id=view.id,
            version=view.version,
            name=view.name,
            email=view.email,
            kind=HumanKind(view.kind),
            status=view.status,
            memberships=[
                MembershipOut(joined_on=m.joined_on, left_on=m.left_on, role=m.role)
                for m in view.memberships
            ],
            attended_days=list(view.attended_days),
            external_ids=dict(view.external_ids),
        )


class TokenOut(BaseModel):
    """What the request's token is: its key's name and its scopes."""

    name: str
    scopes: list[str] = Field(
        description="Granted scopes, sorted; `admin` implies every other one."
    )


class HumansOut(BaseModel):
    """The humans a lookup found: none, or the one holding the email or external id."""

    humans: list[HumanOut]


class EventOut(BaseModel):
    """An event as every reader sees it (see ``hot.application.representation``)."""

    id: str = Field(json_schema_extra={"format": "uuid"})
    name: str
    version: int
    subject: str = Field(
        description="The human the event is about.", json_schema_extra={"format": "uuid"}
    )
    sequence: int = Field(description="The human's version after this event.")
    position: int = Field(description="The event's place in the global log.")
    time: str = Field(
        description="When it was recorded, RFC 3339 in UTC.",
        json_schema_extra={"format": "date-time"},
    )
    payload: dict[str, Any]


class EventPage(BaseModel):
    """A page of events; pass ``next`` as ``after`` for the next page (null at the end)."""

    events: list[EventOut]
    next: int | None


class CloudEventOut(BaseModel):
    """An event as a CloudEvent 1.0, structured JSON (``docs/events.md``)."""

    specversion: str = Field(json_schema_extra={"enum": ["1.0"]})
    id: str = Field(json_schema_extra={"format": "uuid"})
    source: str = Field(description="The HoT deployment: its API's base URL.")
    type: str = Field(description="hot.<name>", examples=["hot.HUMAN_JOINED"])
    subject: str = Field(json_schema_extra={"format": "uuid"})
    time: str = Field(json_schema_extra={"format": "date-time"})
    datacontenttype: str = Field(json_schema_extra={"enum": ["application/json"]})
    dataschema: str = Field(description="The URL of the payload's JSON Schema.")
    hotversion: int
    hotsequence: int
    hotposition: int
    data: dict[str, Any]


class CloudEventPage(BaseModel):
    """A page of the log as CloudEvents; ``next`` as in ``EventPage``. The list is named
    ``cloudevents``, not ``events``: a page says which form it holds, even empty."""

    cloudevents: list[CloudEventOut]
    next: int | None


class EventTypeOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    name: str
    version: int
    description: str
    schema_: dict[str, Any] = Field(alias="schema", description="JSON Schema of the payload.")
    owner: str = Field(description='"hot" for a built-in event, else the team that owns it.')
    compatibility: str | None = Field(
        description="A team's type: its compatibility mode (null for a built-in event)."
    )
    deprecated: bool = Field(description="New events of this version are refused.")
    dataschema: str = Field(description="The URL path of this version's schema (CloudEvents).")

    @classmethod
    def of(cls, info: EventTypeInfo) -> EventTypeOut:
        fields = {"name": info.name, "version": info.version, "description": info.description}
        more = {
            "owner": info.owner,
            "compatibility": info.compatibility,
            "deprecated": info.deprecated,
            "dataschema": dataschema(info),
        }
        return cls.model_validate(fields | {"schema": info.schema} | more)


def dataschema(info: EventTypeInfo) -> str:
    """Where a version's schema is served: a team's version by its own route, a built-in
    event by the catalog (one version each)."""
    return schema_path(info.name, info.version)


class CatalogOut(BaseModel):
    events: list[EventTypeOut]


class CheckOut(BaseModel):
    ok: bool
    detail: str | None = None
    info: dict[str, Any] | None = None


class HealthOut(BaseModel):
    status: str = Field(json_schema_extra={"enum": ["live", "ready", "unavailable"]})
    checks: dict[str, CheckOut] = Field(default_factory=dict)


class ProblemOut(BaseModel):
    """An RFC 9457 problem: every error response of this API."""

    type: str = Field(examples=["urn:hot:problem:already-member"])
    title: str
    status: int
    detail: str
    rule: str = Field(description="The stable name of the error; ``type`` ends with it.")
    field: str | None = Field(default=None, description="The input to blame, if one is.")
    errors: list[dict[str, Any]] | None = Field(
        default=None,
        description="Every input refused (invalid-body, invalid-request, invalid-details), "
        'each {"field", "message"}; ``field`` and ``detail`` name the first.',
    )
