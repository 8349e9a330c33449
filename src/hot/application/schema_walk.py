"""The walk ``checked_schema`` makes over a payload schema before anything else reads it.

It is iterative, so a schema nested 10,000 deep is refused rather than overflowing a
stack, and it knows which objects are schemas: the values of ``properties`` or
``$defs`` are schemas whose names are not keywords, and ``const``, ``enum``,
``default`` and ``examples`` hold data, where ``$ref`` is only a string.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import Any

from hot.application.schema_errors import InvalidSchemaError, dotted

# Containers within containers of a schema document, the schema itself being the first;
# a real payload schema needs few.
MAX_SCHEMA_DEPTH = 32

JSON_SCHEMA_2020_12 = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2020-12/schema#",
    }
)
_NAMED_SCHEMAS = frozenset(
    {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
)
_DATA = frozenset({"const", "enum", "default", "examples"})
_REFERENCES = ("$ref", "$dynamicRef")


class _Held(Enum):
    """What a container in the schema document holds."""

    SCHEMA = "schema"
    NAMED_SCHEMAS = "named schemas"
    DATA = "data"


def schema_path(segments: Sequence[str | int]) -> str:
    """A path in the schema as the request shows it: ``schema.properties.ecode.type``."""
    return dotted(["schema", *segments])


def check_schema_keywords(schema: dict[str, Any]) -> None:
    """Raise ``InvalidSchemaError`` on the first remote reference, other ``$schema``,
    misplaced ``x-personal`` or container nested past ``MAX_SCHEMA_DEPTH``."""
    pending: list[tuple[Any, tuple[str | int, ...], _Held]] = [(schema, (), _Held.SCHEMA)]
    while pending:
        node, path, held = pending.pop()
        if len(path) >= MAX_SCHEMA_DEPTH:
            raise InvalidSchemaError(
                schema_path(path), f"nests deeper than {MAX_SCHEMA_DEPTH} levels"
            )
        if isinstance(node, list):
            items = list(enumerate(node))
        else:
            if held is _Held.SCHEMA:
                _check_keywords(node, path)
            items = list(node.items())
        for key, value in reversed(items):
            if isinstance(value, dict | list):
                pending.append((value, (*path, key), _held_by(held, key, value)))


def _held_by(parent: _Held, key: str | int, value: object) -> _Held:
    if parent is _Held.DATA or (parent is _Held.SCHEMA and key in _DATA):
        return _Held.DATA
    if parent is _Held.SCHEMA and key in _NAMED_SCHEMAS and isinstance(value, dict):
        return _Held.NAMED_SCHEMAS
    return _Held.SCHEMA


def _check_keywords(schema: dict[str, Any], path: tuple[str | int, ...]) -> None:
    for keyword in _REFERENCES:
        reference = schema.get(keyword)
        if isinstance(reference, str) and not reference.startswith("#"):
            raise InvalidSchemaError(
                schema_path((*path, keyword)),
                f"refers outside the schema ({reference!r}); only '#...' references are allowed",
            )
    if "$schema" in schema and schema["$schema"] not in JSON_SCHEMA_2020_12:
        raise InvalidSchemaError(
            schema_path((*path, "$schema")), "must be JSON Schema 2020-12 (or left out)"
        )
    if "x-personal" in schema:
        if not (len(path) == 2 and path[0] == "properties"):
            raise InvalidSchemaError(
                schema_path((*path, "x-personal")),
                "marks personal data only on a top-level property",
            )
        if not isinstance(schema["x-personal"], bool):
            raise InvalidSchemaError(schema_path((*path, "x-personal")), "must be true or false")
