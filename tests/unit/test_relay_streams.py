"""Stream keys and the event as a stream entry."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

import msgspec
import pytest

from hot.application import CATALOG
from hot.application.views import RecordedEvent
from hot.infra.relay import StreamKeys, entry_fields, entry_id, event_from_entry
from hot_follow.representation import event_to_dict
from hot_follow.streams import FIELDS, position_of

EVENT = RecordedEvent(
    id=UUID("6eee6781-f4d9-429f-97c9-a3b06c5b50a9"),
    name="HUMAN_REGISTERED",
    version=1,
    subject=UUID("17fca56e-1eb3-4fbb-acf5-126413235d7e"),
    sequence=1,
    position=4711,
    time=datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
    payload={"name": "Ann Ström", "email": "ann@example.org", "kind": "employee"},
)


def test_keys_are_the_prefix_then_events_then_the_name() -> None:
    stream_keys = StreamKeys("{hot}", CATALOG.names)

    assert stream_keys.all == "{hot}:events"
    assert stream_keys.of("HUMAN_JOINED") == "{hot}:events:HUMAN_JOINED"
    assert stream_keys.every == ("{hot}:events", *(f"{{hot}}:events:{n}" for n in CATALOG.names))


def test_an_entry_id_is_the_log_position() -> None:
    assert entry_id(4711) == "4711-0"
    assert position_of(b"4711-0") == position_of("4711-0") == 4711


EVENTS = [
    EVENT,
    msgspec.structs.replace(EVENT, time=datetime(2026, 5, 6, tzinfo=UTC), payload={}),
    msgspec.structs.replace(
        EVENT, name="HUMAN_LEFT", version=2, payload={"reason": None, "on": "2026-05-06"}
    ),
]


@pytest.mark.parametrize("event", EVENTS)
def test_entry_fields_are_the_event_representation_one_field_each(event: RecordedEvent) -> None:
    fields = entry_fields(event)
    representation = event_to_dict(event)

    assert tuple(fields) == FIELDS
    assert json.loads(fields["payload"]) == representation["payload"]
    assert {k: v for k, v in fields.items() if k != "payload"} == {
        k: str(v) for k, v in representation.items() if k != "payload"
    }
    assert fields["position"] == "4711"


def test_an_entry_time_is_rfc_3339_in_utc() -> None:
    assert entry_fields(EVENT)["time"] == "2026-01-02T03:04:05.678901Z"


@pytest.mark.parametrize("as_bytes", [False, True])
def test_an_entry_reads_back_as_the_same_event(as_bytes: bool) -> None:
    fields = entry_fields(EVENT)
    raw = {k.encode(): v.encode() for k, v in fields.items()} if as_bytes else fields

    assert event_from_entry(raw) == EVENT
