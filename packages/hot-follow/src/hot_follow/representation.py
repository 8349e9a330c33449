"""The one representation of an event that every reader sees.

``{"id", "name", "version", "subject", "sequence", "position", "time", "payload"}``:
the seed's ``{id, name, version, payload}`` plus where the event sits. HoT's history
and log endpoints, its Redis streams and its live feed all use these functions, and
a follower reads them back with them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from hot_follow.events import RecordedEvent
from hot_follow.names import BUILT_IN_PERSONAL_FIELDS

MASKED = "(personal)"
"""What a personal field reads as for a reader without the ``personal`` scope."""

FORGOTTEN = "(forgotten)"
"""What a personal field reads as once its human is forgotten (their key destroyed)."""


def event_to_dict(event: RecordedEvent) -> dict[str, Any]:
    """The event as a JSON-ready dict; ``time`` is RFC 3339 in UTC."""
    return {
        "id": str(event.id),
        "name": event.name,
        "version": event.version,
        "subject": str(event.subject),
        "sequence": event.sequence,
        "position": event.position,
        "time": rfc3339(event.time),
        "payload": event.payload,
    }


def rfc3339(moment: datetime) -> str:
    """An event's time as the representation writes it: RFC 3339, ``Z`` for UTC."""
    return moment.isoformat().replace("+00:00", "Z")


def event_from_dict(data: dict[str, Any]) -> RecordedEvent:
    """The inverse of ``event_to_dict``."""
    return RecordedEvent(
        id=UUID(data["id"]),
        name=data["name"],
        version=int(data["version"]),
        subject=UUID(data["subject"]),
        sequence=int(data["sequence"]),
        position=int(data["position"]),
        time=datetime.fromisoformat(data["time"]),
        payload=dict(data["payload"]),
    )


def masked_payload(name: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The payload with its personal fields (those not null) replaced by ``MASKED``."""
    personal = BUILT_IN_PERSONAL_FIELDS.get(name, ())
    return {k: MASKED if k in personal and v is not None else v for k, v in payload.items()}


def masked_event(event: RecordedEvent) -> RecordedEvent:
    """The event as a reader without the ``personal`` scope sees it (itself if it has
    no personal field with a value). A team's event is masked where it is decoded (its
    personal fields are stored with it): read it with ``personal=False``."""
    personal = BUILT_IN_PERSONAL_FIELDS.get(event.name, ())
    payload = event.payload
    if not any(payload.get(field) is not None for field in personal):
        return event
    return msgspec.structs.replace(event, payload=masked_payload(event.name, payload))


def is_masked(event: RecordedEvent) -> bool:
    """Whether a personal field of the event reads as ``MASKED`` (a masked copy of it);
    for a team's event, whose personal fields its type's version names, any field."""
    fields = BUILT_IN_PERSONAL_FIELDS.get(event.name, event.payload)
    return any(event.payload.get(field) == MASKED for field in fields)
