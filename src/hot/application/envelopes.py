"""Event envelopes posted by clients, the seed's way: ``{id, name, version, payload}``.

An envelope is checked against the catalog (name, current version, payload schema)
before any rule runs; its ``id`` becomes the recorded event's id and its idempotency
key, so posting the same envelope twice records it once.
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
from hot.application.idempotency import Idempotency
from hot.domain import InvalidEnvelopeError

_HUMAN_ID_NAMESPACE = UUID("5d1f0a8e-77c2-4c8b-b7a4-0f3e2d9c6b11")
REGISTRATION = "HUMAN_REGISTERED"


@dataclass(frozen=True)
class Envelope:
    """An event a client asks HoT to record."""

    id: UUID
    name: str
    version: int
    payload: Mapping[str, Any]

    @property
    def idempotency(self) -> Idempotency:
        canonical = json.dumps(
            [self.name, self.version, self.payload], sort_keys=True, default=str
        ).encode()
        return Idempotency(f"envelope:{self.id}", hashlib.sha256(canonical).hexdigest())


@dataclass(frozen=True)
class CheckedEnvelope:
    """An envelope whose payload matches the catalog; ``human_id`` is the subject."""

    envelope: Envelope
    human_id: UUID
    payload: BaseModel


def checked(envelope: Envelope) -> CheckedEnvelope:
    """Check an envelope's shape against the catalog, or say which field is wrong."""
    if envelope.name not in CATALOG:
        known = ", ".join(CATALOG.names)
        raise InvalidEnvelopeError("name", f"Unknown event name {envelope.name!r}; known: {known}.")
    event_type = CATALOG[envelope.name]
    if envelope.version != event_type.version:
        raise InvalidEnvelopeError(
            "version",
            f"{envelope.name} is at version {event_type.version}; "
            f"version {envelope.version} cannot be posted.",
        )
    data = dict(envelope.payload)
    raw_id = data.pop("human_id", None)
    if raw_id is None and envelope.name != REGISTRATION:
        raise InvalidEnvelopeError("payload.human_id", f"{envelope.name} needs a human_id.")
    try:
        human_id = (
            UUID(str(raw_id))
            if raw_id is not None
            else uuid5(_HUMAN_ID_NAMESPACE, str(envelope.id))
        )
    except ValueError:
        raise InvalidEnvelopeError("payload.human_id", "human_id must be a UUID.") from None
    try:
        payload = event_type.payload_model.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InvalidEnvelopeError(f"payload.{where}", f"payload.{where}: {first['msg']}") from None
    return CheckedEnvelope(envelope, human_id, payload)
