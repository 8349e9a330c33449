"""The AsyncAPI document of the streams: valid AsyncAPI 3.0, complete, and true to the entries."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import jsonschema_rs
import pytest
from pydantic_asyncapi.v3 import AsyncAPI

from hot.api.asyncapi import asyncapi_document
from hot.application import CATALOG
from hot.application.views import RecordedEvent
from hot.infra.relay import entry_fields, event_from_entry
from hot_follow.representation import MASKED, masked_event

PAYLOADS: dict[str, dict[str, Any]] = {
    "HUMAN_REGISTERED": {"name": "Ann", "email": "ann@example.org", "kind": "visitor"},
    "HUMAN_JOINED": {"on": "2026-01-05", "role": "engineer"},
    "HUMAN_LEFT": {"on": "2026-02-05", "reason": None},
    "HUMAN_ATTENDED": {"on": "2026-01-06"},
    "HUMAN_DETAILS_CHANGED": {"name": None, "email": "ann@trantor.org"},
    "HUMAN_EXTERNAL_ID_SET": {"scheme": "ecode", "value": "E123"},
    "HUMAN_FORGOTTEN": {"by": "dpo@trantor.org"},
    "EVENT_TYPE_REGISTERED": {
        "name": "RECEIVED_STANDUP_UPDATE",
        "description": "A standup update.",
        "owner": "standup-team",
        "compatibility": "BACKWARD",
    },
    "EVENT_TYPE_VERSION_ADDED": {
        "version": 1,
        "schema": {"type": "object", "properties": {"ecode": {"type": "string"}}},
        "upcast": None,
        "personal_fields": [],
    },
    "EVENT_TYPE_VERSION_DEPRECATED": {"version": 1},
}


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        own = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return own + [r for v in node.values() for r in _refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in _refs(v)]
    return []


def _resolve(document: dict[str, Any], ref: str) -> Any:
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def _validator(document: dict[str, Any], ref: str) -> Any:
    """A JSON Schema validator of the schema at ``ref``, resolving refs in the document."""
    return jsonschema_rs.validator_for({"components": document["components"], "$ref": ref})


def _entry(name: str) -> dict[str, str]:
    event = RecordedEvent(
        id=uuid4(),
        name=name,
        version=CATALOG[name].version,
        subject=uuid4(),
        sequence=3,
        position=4711,
        time=datetime(2026, 1, 6, 9, 30, tzinfo=UTC),
        payload=PAYLOADS[name],
    )
    return entry_fields(event)


def test_the_document_is_asyncapi_3() -> None:
    document = asyncapi_document(redis_host="redis.example.org:6379")

    AsyncAPI.model_validate(document)
    assert document["asyncapi"] == "3.0.0"
    assert document["servers"]["redis"]["protocol"] == "redis"


def test_every_reference_resolves() -> None:
    document = asyncapi_document()

    for ref in _refs(document):
        assert ref.startswith("#/")
        assert _resolve(document, ref) is not None


def test_one_channel_for_all_events_and_one_per_name_under_the_prefix() -> None:
    document = asyncapi_document(prefix="{acme}")
    channels = document["channels"]

    assert channels["events"]["address"] == "{acme}:events"
    assert set(channels["events"]["messages"]) == {f"{t.name}.v{t.version}" for t in CATALOG}
    for event_type in CATALOG:
        channel = channels[event_type.name]
        assert channel["address"] == f"{{acme}}:events:{event_type.name}"
        assert list(channel["messages"]) == [f"{event_type.name}.v{event_type.version}"]
        operation = document["operations"][f"receive_{event_type.name}"]
        assert operation["action"] == "receive"
        assert operation["channel"] == {"$ref": f"#/channels/{event_type.name}"}


def test_every_message_describes_its_catalog_entry() -> None:
    document = asyncapi_document()

    for event_type in CATALOG:
        info = event_type.info()
        message = document["components"]["messages"][f"{info.name}.v{info.version}"]
        assert (message["name"], message["summary"]) == (info.name, info.description)
        fields = message["payload"]["properties"]
        assert fields["name"]["const"] == info.name
        assert fields["version"]["const"] == str(info.version)


@pytest.mark.parametrize("name", CATALOG.names)
def test_a_real_entry_matches_its_message_and_no_other(name: str) -> None:
    assert set(PAYLOADS) == set(CATALOG.names)
    document = asyncapi_document()
    key = f"{name}.v{CATALOG[name].version}"
    entry = _entry(name)

    assert _validator(document, f"#/components/messages/{key}/payload").is_valid(entry)
    payload_schema = f"#/components/schemas/{key}.payload"
    assert _validator(document, payload_schema).is_valid(json.loads(entry["payload"]))
    for other in CATALOG.names:
        if other != name:
            other_key = f"#/components/messages/{other}.v{CATALOG[other].version}/payload"
            assert not _validator(document, other_key).is_valid(entry)


def test_a_payload_that_breaks_the_catalog_fails_its_schema() -> None:
    document = asyncapi_document()
    validator = _validator(document, "#/components/schemas/HUMAN_REGISTERED.v1.payload")

    assert not validator.is_valid({"name": "Ann", "email": "ann@example.org", "kind": "robot"})
    assert not validator.is_valid({"name": "Ann", "kind": "visitor"})


def test_personal_fields_are_marked_and_said_to_be_masked_unless_switched_on() -> None:
    masked, clear = asyncapi_document(), asyncapi_document(personal=True)

    for event_type in CATALOG:
        key = f"#/components/schemas/{event_type.name}.v{event_type.version}.payload"
        fields = _resolve(masked, key)["properties"]
        marked = {name for name, field in fields.items() if field.get("x-personal")}
        assert marked == set(event_type.personal_fields)
        for name in marked:
            assert MASKED in fields[name]["description"]
            assert "HOT_STREAM_PERSONAL=off" in fields[name]["description"]
            assert "in clear" in _resolve(clear, key)["properties"][name]["description"]
    assert "HUMAN_REGISTERED: name, email" in masked["info"]["description"]
    assert "(here: masked)" in masked["info"]["description"]
    assert "(here: in clear)" in clear["info"]["description"]
    AsyncAPI.model_validate(clear)


@pytest.mark.parametrize("name", CATALOG.names)
def test_a_masked_entry_matches_its_message(name: str) -> None:
    document = asyncapi_document()
    key = f"{name}.v{CATALOG[name].version}"
    event = event_from_entry(_entry(name))
    entry = entry_fields(masked_event(event))

    assert _validator(document, f"#/components/messages/{key}/payload").is_valid(entry)
    payload = json.loads(entry["payload"])
    assert _validator(document, f"#/components/schemas/{key}.payload").is_valid(payload)
    for field in CATALOG[name].personal_fields:
        assert payload[field] in (MASKED, None)
