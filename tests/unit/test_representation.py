"""The one event representation: ``event_from_dict(event_to_dict(e)) == e``, through JSON too."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

from hypothesis import given
from hypothesis import strategies as st
from msgspec.structs import replace

from hot.application import RecordedEvent
from hot_follow.representation import event_from_dict, event_to_dict

JOINED = RecordedEvent(
    id=UUID("9a3c1f40-8f7e-4d0a-b6f1-6c0e2b7d5a11"),
    name="HUMAN_JOINED",
    version=1,
    subject=UUID("0b6f3c2e-5d3a-4c1e-9b7a-2f0d8e6a1c55"),
    sequence=2,
    position=17,
    time=datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=UTC),
    payload={"on": "2019-06-01", "role": "engineer"},
)


def test_an_event_is_represented_with_exactly_the_documented_keys() -> None:
    assert event_to_dict(JOINED) == {
        "id": "9a3c1f40-8f7e-4d0a-b6f1-6c0e2b7d5a11",
        "name": "HUMAN_JOINED",
        "version": 1,
        "subject": "0b6f3c2e-5d3a-4c1e-9b7a-2f0d8e6a1c55",
        "sequence": 2,
        "position": 17,
        "time": "2026-03-01T09:30:05.123456Z",
        "payload": {"on": "2019-06-01", "role": "engineer"},
    }


def test_the_representation_reads_back_as_the_same_event() -> None:
    assert event_from_dict(event_to_dict(JOINED)) == JOINED


def test_a_time_in_another_zone_reads_back_as_the_same_instant() -> None:
    event = replace(JOINED, time=datetime(2026, 3, 1, 11, 30, tzinfo=timezone(timedelta(hours=2))))

    back = event_from_dict(json.loads(json.dumps(event_to_dict(event))))

    assert back == event
    assert back.time == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)


def test_reading_does_not_share_the_payload_with_the_dict_it_came_from() -> None:
    data = event_to_dict(JOINED)

    event = event_from_dict(data)
    data["payload"]["role"] = "manager"

    assert event.payload["role"] == "engineer"


_json_scalars = st.none() | st.booleans() | st.integers() | st.text(max_size=20)
_payloads = st.dictionaries(
    st.text(min_size=1, max_size=10),
    _json_scalars | st.lists(_json_scalars, max_size=3),
    max_size=5,
)
_events = st.builds(
    RecordedEvent,
    id=st.uuids(),
    name=st.sampled_from(["HUMAN_REGISTERED", "HUMAN_JOINED", "HUMAN_LEFT", "HUMAN_ATTENDED"]),
    version=st.integers(1, 5),
    subject=st.uuids(),
    sequence=st.integers(1, 10**6),
    position=st.integers(1, 2**62),
    time=st.datetimes(
        min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
    ),
    payload=_payloads,
)


@given(_events)
def test_any_event_survives_the_round_trip_through_json(event: RecordedEvent) -> None:
    text = json.dumps(event_to_dict(event))

    assert event_from_dict(json.loads(text)) == event
    assert json.loads(text)["time"].endswith("Z")
