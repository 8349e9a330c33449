"""Event envelopes posted by clients, the seed's way: ``{id, name, version, payload}``.

A built-in name's envelope is checked against the catalog (name, current version,
payload schema) before any rule runs, and becomes the command its name stands for. Any
other name is a team's type (``RecordTeamEvent``): its version and payload are checked
against the type's schema as the command is decided, since types are registered at run
time. Either way the envelope's ``id`` becomes the recorded event's id and its
idempotency key, so posting the same envelope twice records it once. ``HUMAN_FORGOTTEN``
cannot be posted: forgetting takes the ``admin`` scope, through its own route; nor can
the catalog's own events, which its routes record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from pydantic import BaseModel, ValidationError

from hot.application.catalog import CATALOG
from hot.application.commands import (
    Attend,
    ChangeDetails,
    Command,
    Join,
    Leave,
    RecordTeamEvent,
    Register,
    SetExternalId,
)
from hot.application.idempotency import IdempotencyKey
from hot.domain import InvalidEnvelopeError
from hot.domain.errors import InvalidEventTypeError
from hot.domain.event_types import checked_type_name

_HUMAN_ID_NAMESPACE = UUID("5d1f0a8e-77c2-4c8b-b7a4-0f3e2d9c6b11")
REGISTRATION = "HUMAN_REGISTERED"
# The command each postable event name stands for, and how its payload fields are named.
COMMANDS: dict[str, type[Register | Join | Leave | Attend | ChangeDetails | SetExternalId]] = {
    REGISTRATION: Register,
    "HUMAN_JOINED": Join,
    "HUMAN_LEFT": Leave,
    "HUMAN_ATTENDED": Attend,
    "HUMAN_DETAILS_CHANGED": ChangeDetails,
    "HUMAN_EXTERNAL_ID_SET": SetExternalId,
}


@dataclass(frozen=True)
class Envelope:
    """An event a client asks HoT to record."""

    id: UUID
    name: str
    version: int
    payload: Mapping[str, Any]

    @property
    def idempotency_key(self) -> IdempotencyKey:
        """The key that names this envelope's request: its id, and a hash of its content."""
        canonical = json.dumps(
            [self.name, self.version, self.payload], sort_keys=True, default=str
        ).encode()
        return IdempotencyKey(f"envelope:{self.id}", hashlib.sha256(canonical).hexdigest())


@dataclass(frozen=True)
class CheckedEnvelope:
    """An envelope whose payload matches the catalog; ``human_id`` is the subject."""

    envelope: Envelope
    human_id: UUID
    payload: BaseModel


def registered_human_id(envelope_id: UUID) -> UUID:
    """The id of the human a registration envelope without ``human_id`` registers: derived
    from the envelope's id, so that posting it again names the same human."""
    return uuid5(_HUMAN_ID_NAMESPACE, str(envelope_id))


def command_of(envelope: Envelope) -> Command:
    """The command the envelope stands for: its event's id is the envelope's."""
    if envelope.name not in CATALOG:
        return team_command(envelope)
    subject = checked(envelope)
    fields: dict[str, Any] = subject.payload.model_dump()
    return COMMANDS[envelope.name](human_id=subject.human_id, event_id=envelope.id, **fields)


def team_command(envelope: Envelope) -> RecordTeamEvent:
    """The command recording a team's event: its name well formed, about the human
    ``payload.human_id``. Its payload is checked as it is decided, against its version's
    schema (its shape first: no NUL, nesting within bounds)."""
    try:
        checked_type_name(envelope.name)
    except InvalidEventTypeError as error:
        raise InvalidEnvelopeError("name", f"Unknown event name: {error}") from None
    data = dict(envelope.payload)
    human_id = _human_id(envelope.name, data.pop("human_id", None))
    return RecordTeamEvent(human_id, envelope.name, envelope.version, data, envelope.id)


def _human_id(name: str, raw_id: Any) -> UUID:
    if raw_id is None:
        raise InvalidEnvelopeError("payload.human_id", f"{name} needs a human_id.")
    try:
        return UUID(str(raw_id))
    except ValueError:
        raise InvalidEnvelopeError("payload.human_id", "human_id must be a UUID.") from None


def checked(envelope: Envelope) -> CheckedEnvelope:
    """Check a built-in envelope's shape against the catalog, or say which field is wrong."""
    if envelope.name not in COMMANDS:
        because = (
            "the catalog's own events are recorded through /catalog/types"
            if envelope.name.startswith("EVENT_TYPE_")
            else "forgetting a human takes the admin scope, through POST /humans/{id}/forget"
        )
        raise InvalidEnvelopeError("name", f"{envelope.name} cannot be posted: {because}.")
    event_type = CATALOG[envelope.name]
    if envelope.version != event_type.version:
        raise InvalidEnvelopeError(
            "version",
            f"{envelope.name} is at version {event_type.version}; "
            f"version {envelope.version} cannot be posted.",
        )
    data = dict(envelope.payload)
    raw_id = data.pop("human_id", None)
    human_id = (
        registered_human_id(envelope.id)
        if raw_id is None and envelope.name == REGISTRATION
        else _human_id(envelope.name, raw_id)
    )
    try:
        payload = event_type.payload_model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidEnvelopeError(f"payload.{where}", f"payload.{where}: {first['msg']}") from None
    return CheckedEnvelope(envelope, human_id, payload)
