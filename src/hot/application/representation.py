"""The one representation of an event that every reader sees.

``{"id", "name", "version", "subject", "sequence", "position", "time", "payload"}``:
the seed's ``{id, name, version, payload}`` plus where the event sits. The history
and log endpoints, the Redis streams and the live feed all use these functions.
``event_to_cloudevent`` writes the same event as a CloudEvent 1.0 (structured JSON),
by the mapping of ``docs/events.md``.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

from hot.application.catalog import CATALOG
from hot.application.views import HumanView, RecordedEvent

MASKED = "(personal)"
"""What a personal field reads as for a reader without the ``personal`` scope."""


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


CLOUDEVENTS_TYPE_PREFIX = "hot."
"""The namespace of a CloudEvent's ``type`` (``hot.HUMAN_JOINED``)."""


def schema_path(name: str, version: int) -> str:
    """Where the schema of ``name`` at ``version`` is served (a CloudEvent's
    ``dataschema``): a built-in event's in the catalog, a team's version by its route."""
    if name in CATALOG:
        return f"/catalog#{name}.v{version}"
    return f"/catalog/types/{name}/versions/{version}"


def event_to_cloudevent(event: RecordedEvent, base_url: str) -> dict[str, Any]:
    """The event as a CloudEvent 1.0 in the structured JSON format: ``source`` is the
    deployment's ``base_url``, ``dataschema`` its schema's URL there; HoT's ``version``,
    ``sequence`` and ``position`` are the extensions ``hotversion``, ``hotsequence``,
    ``hotposition``."""
    base = base_url.rstrip("/")
    return {
        "specversion": "1.0",
        "id": str(event.id),
        "source": base,
        "type": CLOUDEVENTS_TYPE_PREFIX + event.name,
        "subject": str(event.subject),
        "time": rfc3339(event.time),
        "datacontenttype": "application/json",
        "dataschema": base + schema_path(event.name, event.version),
        "hotversion": event.version,
        "hotsequence": event.sequence,
        "hotposition": event.position,
        "data": event.payload,
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
    personal = CATALOG[name].personal_fields if name in CATALOG else ()
    return {k: MASKED if k in personal and v is not None else v for k, v in payload.items()}


def masked_event(event: RecordedEvent) -> RecordedEvent:
    """The event as a reader without the ``personal`` scope sees it (itself if it has
    no personal field with a value). A team's event is masked where it is decoded (its
    personal fields are stored with it): read it with ``personal=False``."""
    personal = CATALOG[event.name].personal_fields if event.name in CATALOG else ()
    payload = event.payload
    if not any(payload.get(field) is not None for field in personal):
        return event
    return msgspec.structs.replace(event, payload=masked_payload(event.name, payload))


def is_masked(event: RecordedEvent) -> bool:
    """Whether a personal field of the event reads as ``MASKED`` (a masked copy of it);
    for a team's event, whose personal fields its type's version names, any field."""
    fields = CATALOG[event.name].personal_fields if event.name in CATALOG else event.payload
    return any(event.payload.get(field) == MASKED for field in fields)


def masked_human(human: HumanView) -> HumanView:
    """The human's state as a reader without the ``personal`` scope sees it."""
    external_ids = dict.fromkeys(human.external_ids, MASKED)  # the schemes are not personal
    return dataclasses.replace(human, name=MASKED, email=MASKED, external_ids=external_ids)
