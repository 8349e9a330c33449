"""The event catalog: stable names, versions, descriptions and schemas of the public events."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest
from eventsourcing.utils import get_topic, resolve_topic
from pydantic import ValidationError

from hot.application import CATALOG
from hot.application.catalog import CATALOG_EVENT_CLASSES, ENVELOPE_FIELDS, EventType
from hot.domain import HUMAN_EVENT_CLASSES, Human, HumanKind
from tests.expected import PUBLIC_NAMES

EVENT_TYPES = [CATALOG[name] for name in CATALOG.names]


def test_the_catalog_names_exactly_the_public_human_events_in_life_order() -> None:
    assert CATALOG.names == PUBLIC_NAMES
    assert [t.event_class for t in CATALOG] == [*HUMAN_EVENT_CLASSES, *CATALOG_EVENT_CLASSES]


def test_internal_and_unknown_names_are_not_in_the_catalog() -> None:
    for name in ("hot:EMAIL_CLAIMED", "hot:Human", "HUMAN_FIRED", "human_joined"):
        assert name not in CATALOG
    with pytest.raises(KeyError):
        CATALOG["HUMAN_FIRED"]


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=CATALOG.names)
def test_the_stored_topic_is_the_explicit_catalog_name(event_type: EventType) -> None:
    event_class = event_type.event_class

    assert "TOPIC" in vars(event_class)  # explicit on the class, not derived from its module
    assert get_topic(event_class) == event_type.name
    assert resolve_topic(event_type.name) is event_class


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=CATALOG.names)
def test_every_event_is_at_version_1_with_a_one_paragraph_description(
    event_type: EventType,
) -> None:
    info = event_type.info()

    assert (info.name, info.version) == (event_type.name, 1)
    assert info.description
    assert "\n\n" not in info.description
    assert (event_type.event_class.__doc__ or "").strip().startswith(info.description[:20])


@pytest.mark.parametrize("event_type", EVENT_TYPES, ids=CATALOG.names)
def test_the_schema_properties_are_exactly_the_payload_fields(event_type: EventType) -> None:
    schema = event_type.info().schema
    own_fields = {f.name for f in dataclasses.fields(event_type.event_class)} - ENVELOPE_FIELDS

    assert schema["type"] == "object"
    assert set(schema["properties"]) == own_fields == set(event_type.payload_fields)
    assert "title" not in schema


def test_required_fields_are_the_ones_that_cannot_be_null() -> None:
    required = {t.name: set(t.info().schema.get("required", ())) for t in CATALOG}

    assert required == {
        "HUMAN_REGISTERED": {"name", "email", "kind"},
        "HUMAN_JOINED": {"on", "role"},
        "HUMAN_LEFT": {"on"},
        "HUMAN_ATTENDED": {"on"},
        "HUMAN_DETAILS_CHANGED": set(),
        "HUMAN_EXTERNAL_ID_SET": {"scheme", "value"},
        "HUMAN_FORGOTTEN": {"by"},
        "EVENT_TYPE_REGISTERED": {"name", "description", "owner", "compatibility"},
        "EVENT_TYPE_VERSION_ADDED": {"version", "schema", "personal_fields"},
        "EVENT_TYPE_VERSION_DEPRECATED": {"version"},
    }


def test_the_registered_schema_lists_every_kind() -> None:
    schema = CATALOG["HUMAN_REGISTERED"].info().schema

    kinds = schema["$defs"]["HumanKind"]["enum"]

    assert kinds == [k.value for k in HumanKind]


def test_a_payload_is_json_ready_and_valid_against_its_own_schema_model() -> None:
    human = Human.register("Ann Example", "ann@example.org", HumanKind.EMPLOYEE)
    human.join(date(2026, 1, 5), "engineer")
    human.attend(date(2026, 1, 6), today=date(2026, 1, 6))
    human.leave(date(2026, 1, 9))
    human.change_details(email="ann@other.org")
    human.set_external_id("ecode", " E123 ")
    events = human.collect_events()

    typed = [(CATALOG[get_topic(type(e))], e) for e in events]
    payloads = [t.payload_of(e) for t, e in typed]  # type: ignore[arg-type]

    assert payloads == [
        {"name": "Ann Example", "email": "ann@example.org", "kind": "employee"},
        {"on": "2026-01-05", "role": "engineer"},
        {"on": "2026-01-06"},
        {"on": "2026-01-09", "reason": None},
        {"name": None, "email": "ann@other.org"},
        {"scheme": "ecode", "value": "E123"},
    ]
    for (event_type, _), payload in zip(typed, payloads, strict=True):
        event_type.payload_model.model_validate(payload)


def test_a_payload_missing_a_required_field_or_with_an_unknown_one_is_invalid() -> None:
    model = CATALOG["HUMAN_JOINED"].payload_model

    model.model_validate({"on": "2026-01-05", "role": "engineer"})
    with pytest.raises(ValidationError, match="role"):
        model.model_validate({"on": "2026-01-05"})
    with pytest.raises(ValidationError, match="salary"):
        model.model_validate({"on": "2026-01-05", "role": "engineer", "salary": 1})


def test_personal_fields_are_marked_in_the_schema_and_nothing_else_is() -> None:
    marked = {
        t.name: {f for f, spec in t.info().schema["properties"].items() if spec.get("x-personal")}
        for t in CATALOG
    }

    assert marked == {
        "HUMAN_REGISTERED": {"name", "email"},
        "HUMAN_JOINED": set(),
        "HUMAN_LEFT": {"reason"},
        "HUMAN_ATTENDED": set(),
        "HUMAN_DETAILS_CHANGED": {"name", "email"},
        "HUMAN_EXTERNAL_ID_SET": {"value"},
        "HUMAN_FORGOTTEN": set(),
        "EVENT_TYPE_REGISTERED": set(),
        "EVENT_TYPE_VERSION_ADDED": set(),
        "EVENT_TYPE_VERSION_DEPRECATED": set(),
    }
