"""Team payload schemas: which JSON Schemas HoT accepts, and validating payloads by them.

A payload schema is a JSON Schema 2020-12 of an object. ``checked_schema`` refuses any
schema that could reach outside itself (a ``$ref`` not starting with ``#``, another
``$schema``), that nests deeper than ``MAX_SCHEMA_DEPTH``, or that marks personal data
(``"x-personal": true``) anywhere but on a top-level property. Nothing is ever fetched:
every compilation is given a retriever that refuses.

``PayloadValidator`` compiles a schema once and is then used per event: the shape check
(``payload_shapes``) and a fast ``is_valid`` run first; errors are collected only for
a payload that fails. ``format`` is asserted (a ``"date"`` must be a date); unknown
formats are ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NoReturn
from urllib.parse import quote

import jsonschema_rs

from hot.application.payload_shapes import (
    MAX_PAYLOAD_DEPTH,
    checked_payload_shape,
    payload_shape_errors,
)
from hot.application.schema_errors import (
    InvalidPayloadError,
    InvalidSchemaError,
    PayloadError,
    dotted,
)
from hot.application.schema_walk import MAX_SCHEMA_DEPTH, check_schema_keywords, schema_path

__all__ = [
    "MAX_PAYLOAD_DEPTH",
    "MAX_SCHEMA_DEPTH",
    "PayloadValidator",
    "checked_payload_shape",
    "checked_schema",
    "field_value_errors",
    "personal_fields",
]


def checked_schema(schema: object) -> dict[str, Any]:
    """The schema itself if HoT accepts it as a payload schema, else ``InvalidSchemaError``."""
    if not isinstance(schema, dict):
        raise InvalidSchemaError("schema", "must be a JSON object")
    # Before the meta-schema sees it: its own walk is recursive, and an unknown
    # ``$schema`` would be looked up.
    check_schema_keywords(schema)
    try:
        jsonschema_rs.meta.validate(schema, registry=_OFFLINE_REGISTRY)
    except jsonschema_rs.ValidationError as error:
        raise InvalidSchemaError(schema_path(error.instance_path), error.message) from None
    if schema.get("type") != "object":
        raise InvalidSchemaError("schema.type", 'must be "object": a payload is a JSON object')
    compiled_validator(schema)
    return schema


def personal_fields(schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The top-level properties marked ``"x-personal": true``, sorted by name."""
    properties = schema.get("properties", {})
    return tuple(
        sorted(
            name
            for name, subschema in properties.items()
            if isinstance(subschema, dict) and subschema.get("x-personal") is True
        )
    )


class PayloadValidator:
    """One payload schema compiled once, to check each event's payload against it."""

    __slots__ = ("_validator",)

    def __init__(self, schema: dict[str, Any]) -> None:
        self._validator = compiled_validator(schema)

    def errors(self, payload: object) -> list[PayloadError]:
        """Every failing path of ``payload``, in dotted form; empty if it is valid."""
        shape_errors = payload_shape_errors(payload)
        if shape_errors:
            return shape_errors
        if self._validator.is_valid(payload):
            return []
        return [
            payload_error
            for error in self._validator.iter_errors(payload)
            for payload_error in _payload_errors(error)
        ]

    def check(self, payload: object) -> None:
        """Return if ``payload`` is valid, else raise ``InvalidPayloadError`` listing its errors."""
        errors = self.errors(payload)
        if errors:
            raise InvalidPayloadError(errors)


def field_value_errors(schema: dict[str, Any], field: str, value: object) -> list[str]:
    """What ``schema``'s top-level property ``field`` refuses of ``value``: an upcast's default.

    The whole schema is registered so the property's local references still resolve.
    """
    pointer = "/properties/" + field.replace("~", "~0").replace("/", "~1")
    registry = jsonschema_rs.Registry([(_WHOLE_SCHEMA, schema)], retriever=refuse_retrieval)
    validator = jsonschema_rs.Draft202012Validator(
        {"$ref": f"{_WHOLE_SCHEMA}#{quote(pointer)}"},
        validate_formats=True,
        registry=registry,
        retriever=refuse_retrieval,
    )
    return [error.message for error in validator.iter_errors(value)]


def compiled_validator(schema: dict[str, Any]) -> jsonschema_rs.Validator:
    """A 2020-12 validator of ``schema`` that asserts formats and never fetches a resource."""
    try:
        return jsonschema_rs.Draft202012Validator(
            schema, validate_formats=True, retriever=refuse_retrieval
        )
    except (jsonschema_rs.ValidationError, jsonschema_rs.ReferencingError) as error:
        path = getattr(error, "instance_path", [])
        reason = getattr(error, "message", str(error))
        raise InvalidSchemaError(schema_path(path), reason) from None


def refuse_retrieval(uri: str) -> NoReturn:
    """The retriever given to every compilation: a payload schema reaches nothing outside."""
    raise ValueError(f"{uri} is not retrieved: a payload schema refers only within itself")


_OFFLINE_REGISTRY = jsonschema_rs.Registry([], retriever=refuse_retrieval)
_WHOLE_SCHEMA = "urn:hot:payload-schema"


def _payload_errors(error: jsonschema_rs.ValidationError) -> list[PayloadError]:
    """One validator error as payload errors, pointing at the missing or unexpected field."""
    path = list(error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return [PayloadError(dotted([*path, kind.property]), "is required")]
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        return [PayloadError(dotted([*path, name]), "is not allowed") for name in kind.unexpected]
    return [PayloadError(dotted(path), error.message)]
