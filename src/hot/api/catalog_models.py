"""Request and response bodies of the open catalog's routes (``hot.api.event_types``)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from hot.application.team_catalog import EventTypeView, VersionCheck
from hot.domain.event_types import MAX_DESCRIPTION, MAX_NAME, MAX_OWNER, Compatibility, TypeVersion


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EventTypeBody(_Body):
    """A team's new event type."""

    name: str = Field(
        max_length=MAX_NAME,
        description="UPPER_SNAKE_CASE; not starting with HUMAN_ or EVENT_TYPE_ (HoT's own).",
        examples=["RECEIVED_STANDUP_UPDATE"],
    )
    description: str = Field(max_length=MAX_DESCRIPTION, examples=["A daily standup update."])
    owner: str = Field(max_length=MAX_OWNER, examples=["standup-team"])
    compatibility: Compatibility = Field(
        Compatibility.BACKWARD,
        description="What a new version must keep readable (Confluent Schema Registry's modes).",
    )


class VersionBody(_Body):
    """A new version of a type: its payload's JSON Schema, and how older events upcast."""

    model_config = ConfigDict(extra="forbid", frozen=True, serialize_by_alias=True)

    schema_: dict[str, Any] = Field(
        alias="schema",
        description="JSON Schema 2020-12 of the payload (an object; no $ref outside it). "
        'A top-level property with "x-personal": true is personal data.',
    )
    upcast: dict[str, Any] | None = Field(
        None,
        description='From the version before: {"rename": {old: new}, "defaults": {field: '
        'value}, "drop": [field]}; declarative, never code.',
    )
    version: int | None = Field(
        None, ge=1, description="The number this version must get (else a 409): for races."
    )


class VersionOut(BaseModel):
    model_config = ConfigDict(serialize_by_alias=True)

    name: str
    version: int
    schema_: dict[str, Any] = Field(alias="schema")
    upcast: dict[str, Any] | None
    personal_fields: list[str]
    deprecated: bool

    @classmethod
    def of(cls, name: str, version: TypeVersion) -> VersionOut:
        return cls.model_validate(
            {
                "name": name,
                "version": version.number,
                "schema": version.schema,
                "upcast": version.upcast,
                "personal_fields": list(version.personal_fields),
                "deprecated": version.deprecated,
            }
        )


class EventTypeOut(BaseModel):
    """A team's event type and every version of it."""

    name: str
    description: str
    owner: str
    compatibility: Compatibility
    current: int | None = Field(description="The newest version that may be posted.")
    versions: list[VersionOut]

    @classmethod
    def of(cls, view: EventTypeView) -> EventTypeOut:
        return cls(
            name=view.name,
            description=view.description,
            owner=view.owner,
            compatibility=Compatibility(view.compatibility),
            current=view.current,
            versions=[VersionOut.of(view.name, v) for v in view.versions],
        )


class EventTypesOut(BaseModel):
    types: list[EventTypeOut]


class AddedOut(BaseModel):
    name: str
    version: int


class BreakingChangeOut(BaseModel):
    path: str
    reason: str


class CheckedVersionOut(BaseModel):
    """A dry run's answer: whether the version would be accepted, and what it breaks."""

    compatible: bool
    errors: list[BreakingChangeOut]

    @classmethod
    def of(cls, check: VersionCheck) -> CheckedVersionOut:
        errors = [BreakingChangeOut(path=p, reason=r) for p, r in check.errors]
        return cls(compatible=check.compatible, errors=errors)
