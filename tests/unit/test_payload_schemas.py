"""Which payload schemas HoT accepts, and what validating a payload by one reports."""

from __future__ import annotations

from typing import Any

import pytest

from hot.application.payload_schemas import (
    MAX_PAYLOAD_DEPTH,
    MAX_SCHEMA_DEPTH,
    PayloadValidator,
    checked_payload_shape,
    checked_schema,
    field_value_errors,
    personal_fields,
)
from hot.application.schema_errors import InvalidPayloadError, InvalidSchemaError, PayloadError
from tests.standup import STANDUP_V1, STANDUP_V2, STANDUP_V2_PAYLOAD

TEXT = {"type": "string"}


def payload_schema(**fields: Any) -> dict[str, Any]:
    return {"type": "object", "properties": fields}


def nested(depth: int, innermost: Any, key: str = "a") -> Any:
    """``innermost`` within ``depth`` objects, each holding the next under ``key``."""
    value = innermost
    for _ in range(depth):
        value = {key: value}
    return value


def refusal(schema: object) -> InvalidSchemaError:
    with pytest.raises(InvalidSchemaError) as refused:
        checked_schema(schema)
    return refused.value


def test_the_standup_schemas_are_accepted_and_ecode_is_personal() -> None:
    assert checked_schema(STANDUP_V2) is STANDUP_V2
    assert personal_fields(checked_schema(STANDUP_V1)) == ("ecode",)


def test_personal_fields_are_the_top_level_ones_marked_true_sorted() -> None:
    schema = payload_schema(
        name={"type": "string", "x-personal": True},
        email={"type": "string", "x-personal": True},
        team={"type": "string", "x-personal": False},
    )

    assert personal_fields(checked_schema(schema)) == ("email", "name")


@pytest.mark.parametrize(
    ("schema", "path", "problem"),
    [
        ([], "schema", "JSON object"),
        (True, "schema", "JSON object"),
        ({"type": 5}, "schema.type", "is not valid under any of the schemas"),
        (payload_schema(a={"minLength": -1}), "schema.properties.a.minLength", "less than"),
        ({"type": "string"}, "schema.type", 'must be "object"'),
        ({"properties": {}}, "schema.type", 'must be "object"'),
        (payload_schema(a={"pattern": "(("}), "schema.properties.a.pattern", "regex"),
        (payload_schema(a={"$ref": "#/$defs/missing"}), "schema", "/$defs/missing"),
    ],
)
def test_an_invalid_schema_is_refused_with_its_path_and_the_validators_message(
    schema: object, path: str, problem: str
) -> None:
    refused = refusal(schema)

    assert refused.path == path
    assert problem in refused.reason


@pytest.mark.parametrize(
    "reference",
    ["https://example.com/standup.json", "standup.json", "file:///etc/passwd", "urn:x#/a"],
)
def test_a_reference_outside_the_schema_is_refused_at_any_depth(reference: str) -> None:
    schema = payload_schema(a={"type": "array", "items": {"allOf": [{"$ref": reference}]}})

    refused = refusal(schema)

    assert refused.path == "schema.properties.a.items.allOf.0.$ref"
    assert "only '#...' references" in refused.reason


def test_a_dynamic_reference_outside_the_schema_is_refused() -> None:
    assert refusal(payload_schema(a={"$dynamicRef": "https://x.example/s"})).path == (
        "schema.properties.a.$dynamicRef"
    )


def test_a_local_reference_is_allowed_and_resolved() -> None:
    schema = {**payload_schema(tag={"$ref": "#/$defs/tag"}), "$defs": {"tag": TEXT}}

    validator = PayloadValidator(checked_schema(schema))

    assert validator.errors({"tag": "x"}) == []
    assert validator.errors({"tag": 1}) == [PayloadError("tag", '1 is not of type "string"')]


def test_a_ref_key_in_example_data_is_data_not_a_reference() -> None:
    schema = payload_schema(a={"type": "object", "examples": [{"$ref": "https://x.example"}]})

    assert checked_schema(schema) is schema


def test_a_compilation_never_fetches_what_a_reference_names() -> None:
    with pytest.raises(InvalidSchemaError) as refused:
        PayloadValidator(payload_schema(a={"$ref": "https://example.invalid/a.json"}))

    assert "is not retrieved" in refused.value.reason


@pytest.mark.parametrize(
    ("dialect", "accepted"),
    [
        ("https://json-schema.org/draft/2020-12/schema", True),
        ("http://json-schema.org/draft-07/schema#", False),
        ("https://json-schema.org/draft/2019-09/schema", False),
        ("https://example.com/my-meta-schema", False),
    ],
)
def test_only_json_schema_2020_12_is_accepted(dialect: str, accepted: bool) -> None:
    schema = {"$schema": dialect, "type": "object"}
    if accepted:
        assert checked_schema(schema) is schema
    else:
        assert refusal(schema).path == "schema.$schema"


def test_a_schema_nested_past_the_limit_is_refused_even_10000_deep() -> None:
    # The root is depth 1, its ``properties`` 2, ``a`` 3: the innermost ``TEXT`` is depth
    # 32 in the first, 33 in the second.
    at_limit = payload_schema(a=nested(MAX_SCHEMA_DEPTH - 3, TEXT, "items"))
    past_limit = payload_schema(a=nested(MAX_SCHEMA_DEPTH - 2, TEXT, "items"))

    assert checked_schema(at_limit) is at_limit
    assert f"deeper than {MAX_SCHEMA_DEPTH}" in refusal(past_limit).reason
    assert f"deeper than {MAX_SCHEMA_DEPTH}" in refusal(nested(10_000, {}, "not")).reason


@pytest.mark.parametrize(
    ("schema", "path"),
    [
        (
            payload_schema(a={"type": "object", "properties": {"b": {"x-personal": True}}}),
            "schema.properties.a.properties.b.x-personal",
        ),
        ({"type": "object", "x-personal": True}, "schema.x-personal"),
        ({"type": "object", "$defs": {"a": {"x-personal": True}}}, "schema.$defs.a.x-personal"),
        (payload_schema(a={"items": {"x-personal": True}}), "schema.properties.a.items.x-personal"),
        (payload_schema(a={"x-personal": "yes"}), "schema.properties.a.x-personal"),
    ],
)
def test_personal_data_is_marked_only_on_a_top_level_property_with_a_boolean(
    schema: dict[str, Any], path: str
) -> None:
    assert refusal(schema).path == path


def test_a_top_level_property_named_x_personal_is_only_a_name() -> None:
    schema = payload_schema(**{"x-personal": TEXT})

    assert personal_fields(checked_schema(schema)) == ()


def test_the_standup_v2_payload_is_valid() -> None:
    validator = PayloadValidator(checked_schema(STANDUP_V2))

    assert validator.errors(STANDUP_V2_PAYLOAD) == []
    validator.check(STANDUP_V2_PAYLOAD)


def test_every_failing_path_is_listed() -> None:
    schema = {**STANDUP_V2, "additionalProperties": False}
    payload = {
        **STANDUP_V2_PAYLOAD,
        "issues": ["HOT-16", 17, None],
        "date": "2026-02-30",
        "mood": "sunny",
    }
    del payload["project"]

    errors = PayloadValidator(checked_schema(schema)).errors(payload)

    assert sorted(errors, key=lambda error: error.path) == [
        PayloadError("date", '"2026-02-30" is not a "date"'),
        PayloadError("issues.1", '17 is not of type "string"'),
        PayloadError("issues.2", 'null is not of type "string"'),
        PayloadError("mood", "is not allowed"),
        PayloadError("project", "is required"),
    ]


def test_check_raises_with_every_error() -> None:
    validator = PayloadValidator(checked_schema(STANDUP_V2))

    with pytest.raises(InvalidPayloadError) as refused:
        validator.check({**STANDUP_V2_PAYLOAD, "notes": "none", "isDelivered": "yes"})

    assert [error.path for error in refused.value.errors] == ["notes", "isDelivered"]


def test_a_payload_that_is_not_an_object_fails_at_its_root() -> None:
    errors = PayloadValidator(checked_schema(STANDUP_V2)).errors(["E042"])

    assert [error.path for error in errors] == [""]


@pytest.mark.parametrize(
    ("payload", "path", "problem"),
    [
        ({"notes": ["fine", "bad\x00"]}, "notes.1", "holds a NUL character"),
        ({"notes": {"bad\x00key": 1}}, "notes", "key 'bad\\x00key' holds a NUL"),
    ],
)
def test_a_nul_in_a_string_or_key_is_refused(payload: Any, path: str, problem: str) -> None:
    with pytest.raises(InvalidPayloadError) as refused:
        checked_payload_shape(payload)

    [error] = refused.value.errors
    assert error.path == path
    assert problem in error.message


def test_the_validator_reports_the_shape_before_the_schema() -> None:
    errors = PayloadValidator(checked_schema(STANDUP_V2)).errors({"ecode": "E\x00"})

    assert errors == [PayloadError("ecode", "holds a NUL character")]


@pytest.mark.parametrize("container", ["object", "array"])
def test_a_payload_10000_deep_is_refused_at_the_limit_without_recursion(container: str) -> None:
    deep: Any = "x"
    for _ in range(10_000):
        deep = {"a": deep} if container == "object" else [deep]
    validator = PayloadValidator(checked_schema(payload_schema(deep={})))

    [error] = validator.errors({"deep": deep})

    assert error.path.count(".") == MAX_PAYLOAD_DEPTH - 1
    assert f"deeper than {MAX_PAYLOAD_DEPTH}" in error.message


def test_a_payload_at_the_depth_limit_passes_the_shape_check() -> None:
    checked_payload_shape(nested(MAX_PAYLOAD_DEPTH, "x"))

    with pytest.raises(InvalidPayloadError):
        checked_payload_shape(nested(MAX_PAYLOAD_DEPTH + 1, "x"))


def test_a_fields_value_is_judged_by_that_property_alone() -> None:
    assert field_value_errors(STANDUP_V2, "issues", []) == []
    assert field_value_errors(STANDUP_V2, "issues", "HOT-16") == ['"HOT-16" is not of type "array"']
