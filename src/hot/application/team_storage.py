"""How a team's event is stored: under its type's name, its payload as JSON text.

A ``Human.TeamEventRecorded`` is stored with its type's name as the topic, so the log
shows it as the team named it, and with the payload as one JSON string: a team's
payload is any JSON, and as text it never meets the transcoder's tagged objects
(a ``{"_type_", "_data_"}`` object of a team's would otherwise be read as a value of
HoT's). Its personal fields (``personal_fields``) are null in that text and sealed in
the state's blob under the human's key, as the built-in events' are.

``TeamEventsMapper`` is the library's mapper plus this; ``PersonalDataMapper`` seals.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any
from uuid import UUID

from eventsourcing.persistence import Mapper, StoredEvent

from hot.application.catalog import CATALOG
from hot.domain import Human

TeamEvent = Human.TeamEventRecorded
Seal = Callable[[UUID, dict[str, Any]], dict[str, Any] | None]
Open = Callable[[UUID, dict[str, Any]], dict[str, Any] | None]

BLOB = "_personal"
"""The key, in a stored state, of the blob of sealed personal fields (``personal``)."""

_payload_text = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


def is_team_name(topic: str) -> bool:
    """Whether a stored topic is a team type's name (not HoT's own, nor internal)."""
    return ":" not in topic and topic not in CATALOG


class TeamEventsMapper(Mapper[UUID]):
    """``eventsourcing``'s mapper, storing team events under their type's name."""

    def to_stored_events(self, domain_events: Sequence[Any]) -> list[StoredEvent]:
        """The stored form of a transaction's events, in order."""
        return [self.to_stored_event(event) for event in domain_events]

    def to_stored_event(self, domain_event: Any) -> StoredEvent:
        if isinstance(domain_event, TeamEvent):
            return self.team_stored_event(domain_event, None)
        return super().to_stored_event(domain_event)

    def to_domain_event(self, stored_event: StoredEvent) -> Any:
        if is_team_name(stored_event.topic):
            return self.team_domain_event(stored_event, None)
        return super().to_domain_event(stored_event)

    def team_stored_event(self, event: TeamEvent, seal: Seal | None) -> StoredEvent:
        """The stored form of ``event``; its personal values sealed by ``seal`` (if given,
        and it answers a blob: None means the human is forgotten and nothing is sealed)."""
        payload = dict(event.payload)
        values = {f: payload[f] for f in event.personal_fields if payload.get(f) is not None}
        blob = seal(event.originator_id, values) if seal is not None and values else None
        if blob is not None:
            payload.update(dict.fromkeys(values))
        state: dict[str, Any] = {
            "event_id": event.event_id,
            "timestamp": event.timestamp,
            "version": event.version,
            "payload": _payload_text(payload),
            "personal_fields": list(event.personal_fields),
        }
        if blob is not None:
            state[BLOB] = blob
        return StoredEvent(
            originator_id=event.originator_id,
            originator_version=event.originator_version,
            topic=event.name,
            state=self.transcoder.encode(state),
        )

    def team_domain_event(self, stored: StoredEvent, open_blob: Open | None) -> TeamEvent:
        """The event ``stored`` holds, its sealed values opened by ``open_blob`` (its
        answer None: forgotten, and those fields read as such)."""
        state: dict[str, Any] = self.transcoder.decode(stored.state)
        payload = json.loads(state.pop("payload"))
        blob = state.pop(BLOB, None)
        if blob is not None and open_blob is not None:
            payload.update(open_blob(UUID(str(stored.originator_id)), blob) or {})
        event: TeamEvent = object.__new__(TeamEvent)
        event.__dict__.update(
            state,
            originator_id=stored.originator_id,
            originator_version=stored.originator_version,
            name=stored.topic,
            payload=payload,
        )
        return event
