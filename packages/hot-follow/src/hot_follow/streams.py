"""The Redis streams the relay writes: their keys, and an event as a stream entry.

``<prefix>:events`` holds every public event and ``<prefix>:events:<NAME>`` the events
of one name. An entry's id is ``<position>-0``, so a consumer moves between the
PostgreSQL log and Redis with one number. Its fields are the event representation
(``event_to_dict``), one field each, with ``payload`` as a JSON string. A prefix with
a hash tag, such as ``{hot}``, keeps every key in one Redis Cluster slot, which the
relay's atomic publish needs there (``HOT_REDIS_CLUSTER=on`` refuses any other prefix:
``hot_follow.redis_client.one_slot_problem``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from hot_follow.events import RecordedEvent
from hot_follow.representation import event_from_dict, rfc3339

FIELDS = ("id", "name", "version", "subject", "sequence", "position", "time", "payload")

# ``json.dumps`` with options builds an encoder each call; this one is built once.
_payload_json = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode


@dataclass(frozen=True)
class StreamKeys:
    """The keys of the streams under one prefix, for the given event names."""

    prefix: str
    names: tuple[str, ...]

    @property
    def all(self) -> str:
        """The stream of every event."""
        return f"{self.prefix}:events"

    def of(self, name: str) -> str:
        """The stream of the events named ``name``."""
        return f"{self.prefix}:events:{name}"

    @cached_property
    def every(self) -> tuple[str, ...]:
        """The all-events stream first, then one stream per name, in ``names`` order."""
        return (self.all, *(self.of(n) for n in self.names))


def entry_id(position: int) -> str:
    """The stream entry id of the event at log ``position``."""
    return f"{position}-0"


def position_of(entry_id: bytes | str) -> int:
    """The log position a stream entry id stands for."""
    text = entry_id.decode() if isinstance(entry_id, bytes) else entry_id
    return int(text.split("-", 1)[0])


def entry_fields(event: RecordedEvent) -> dict[str, str]:
    """The event as stream entry fields, in ``FIELDS`` order."""
    return dict(zip(FIELDS, entry_values(event), strict=True))


def entry_values(event: RecordedEvent) -> tuple[str, ...]:
    """The values of the event's representation (``event_to_dict``) as entry fields, in
    ``FIELDS`` order, with ``payload`` as JSON: made directly, without the dict, for the
    relay publishes one for every event."""
    return (
        str(event.id),
        event.name,
        str(event.version),
        str(event.subject),
        str(event.sequence),
        str(event.position),
        rfc3339(event.time),
        _payload_json(event.payload),
    )


def event_from_entry(fields: Mapping[bytes, bytes] | Mapping[str, str]) -> RecordedEvent:
    """The event a stream entry holds (the inverse of ``entry_fields``)."""
    data = {_text(k): _text(v) for k, v in fields.items()}
    return event_from_dict({**data, "payload": json.loads(data["payload"])})


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
