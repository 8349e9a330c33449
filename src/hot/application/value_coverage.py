"""What a reader's ``enum``, ``const``, ``type`` and bounds refuse of a writer's values.

A writer with an ``enum`` (or ``const``) holds exactly those values, so each is checked
against the reader's ``enum`` and ``type``; otherwise the writer's ``type`` is compared
(an ``integer`` is a ``number``). Bounds (``minimum``, ``maxLength``, ...) of the reader
must be no tighter than the writer's own.
"""

from __future__ import annotations

from typing import Any

from hot.application.reading_sides import BreakingChange, Sides, as_json, same

LOWER_BOUNDS = frozenset({"minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties"})
UPPER_BOUNDS = frozenset({"maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties"})
_JSON_TYPES = {float: "number", str: "string", list: "array", dict: "object"}


def value_changes(
    writer: dict[str, Any], reader: dict[str, Any], path: str, sides: Sides
) -> list[BreakingChange]:
    """The reasons, at ``path``, why ``reader`` may refuse a value ``writer`` allows."""
    reasons = [*_enum_reasons(writer, reader, sides), *_type_reasons(writer, reader, sides)]
    reasons += _bound_reasons(writer, reader, sides)
    return [BreakingChange(path, reason) for reason in reasons]


def _enum_reasons(writer: dict[str, Any], reader: dict[str, Any], sides: Sides) -> list[str]:
    held, allowed = _listed_values(writer), _listed_values(reader)
    if allowed is None:
        return []
    if held is None:
        return [f"enum added: {sides.writer} may hold any value, {sides.reader} a few"]
    refused = [value for value in held if not any(same(value, a) for a in allowed)]
    if not refused:
        return []
    word = sides.stricter if len(refused) < len(held) else "changed"
    was, now = sides.previous_and_new(held, allowed)
    return [
        f"enum {word} from {was} to {now}: {sides.writer} may hold "
        f"{as_json(refused[0])}, which {sides.reader} refuses"
    ]


def _type_reasons(writer: dict[str, Any], reader: dict[str, Any], sides: Sides) -> list[str]:
    if "type" not in reader:
        return []
    refused = _refused_types(writer, _types(reader["type"]))
    if not refused:
        return []
    narrower = "type" in writer and _types(writer["type"]) >= _types(reader["type"])
    was, now = sides.previous_and_new(writer.get("type"), reader["type"])
    return [
        f"type {sides.stricter if narrower else 'changed'} from {was} to {now}: "
        f"{sides.writer} may hold {', '.join(refused)}, which {sides.reader} refuses"
    ]


def _bound_reasons(writer: dict[str, Any], reader: dict[str, Any], sides: Sides) -> list[str]:
    reasons = []
    for keyword in sorted(reader.keys() & (LOWER_BOUNDS | UPPER_BOUNDS)):
        bound, held = reader[keyword], writer.get(keyword)
        if isinstance(held, int | float) and _as_loose(held, bound, keyword in LOWER_BOUNDS):
            continue
        was, now = sides.previous_and_new(held, bound)
        reasons.append(
            f"{keyword} {sides.stricter} from {was} to {now}: "
            f"{sides.writer} may hold values {sides.reader} refuses"
        )
    return reasons


def _as_loose(held: float, bound: float, lower: bool) -> bool:
    """Whether the reader's bound lets through every value within the writer's."""
    return bound <= held if lower else bound >= held


def _listed_values(schema: dict[str, Any]) -> list[Any] | None:
    if "const" in schema:
        return [schema["const"]]
    enum = schema.get("enum")
    return list(enum) if isinstance(enum, list) else None


def _types(declared: object) -> set[str]:
    if isinstance(declared, str):
        return {declared}
    return set(declared) if isinstance(declared, list) else set()


def _refused_types(writer: dict[str, Any], accepted: set[str]) -> list[str]:
    def refused(held: str) -> bool:
        return held not in accepted and not (held == "integer" and "number" in accepted)

    held_values = _listed_values(writer)
    if held_values is not None:
        return sorted({t for t in map(_json_type, held_values) if refused(t)})
    if "type" not in writer:
        return ["any type"]
    return sorted(t for t in _types(writer["type"]) if refused(t))


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int) or (isinstance(value, float) and value.is_integer()):
        return "integer"
    return _JSON_TYPES.get(type(value), "unknown")
