"""Where a reader's schema may refuse what a writer's schema lets through.

``uncovered(writer, reader, sides)`` lists the places where an instance valid under the
writer's schema could be invalid under the reader's. It proves coverage only for what
it understands -- ``properties``, ``required``, ``additionalProperties``, ``items``, and
``type``, ``enum``/``const`` and bounds (``value_coverage``) -- and for any other
assertion keyword of the reader (``oneOf``, ``pattern``, ``format``, ``$ref``, ...)
asks the writer to hold the very same one, a ``$ref`` pointing at an unchanged target;
otherwise it reports "cannot prove compatible". Annotations never matter.

One leniency, as the catalog wants it: where a schema is open by default (no
``additionalProperties``, or ``true``), the fields it does not declare are assumed
absent. So declaring a new field in it, or closing it (``additionalProperties: false``),
breaks nothing; removing a declared field from a closed reader does. Fields allowed by
an explicit ``additionalProperties`` schema are compared like declared ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from hot.application.reading_sides import BreakingChange, Sides, same
from hot.application.value_coverage import LOWER_BOUNDS, UPPER_BOUNDS, value_changes

_ANNOTATIONS = frozenset(
    {"title", "description", "default", "examples", "$comment", "deprecated", "readOnly",
     "writeOnly", "$defs", "definitions", "$schema", "$id", "$anchor", "$dynamicAnchor",
     "contentMediaType", "contentEncoding", "contentSchema"}
)  # fmt: skip
_COMPARED = frozenset(
    {"type", "enum", "const", "properties", "required", "additionalProperties", "items"}
)
_NOT_OPAQUE = _ANNOTATIONS | _COMPARED | LOWER_BOUNDS | UPPER_BOUNDS


@dataclass(frozen=True)
class _Comparison:
    """The two whole schemas (where local references point) and the sides they play."""

    writer: dict[str, Any]
    reader: dict[str, Any]
    sides: Sides


def uncovered(writer: dict[str, Any], reader: dict[str, Any], sides: Sides) -> list[BreakingChange]:
    """Every place where ``reader`` may refuse an instance that ``writer`` accepts."""
    return _uncovered(writer, reader, "", _Comparison(writer, reader, sides))


def _uncovered(writer: Any, reader: Any, path: str, whole: _Comparison) -> list[BreakingChange]:
    if reader is True or reader == {} or writer is False:
        return []
    if reader is False:
        return [BreakingChange(path, f"{whole.sides.reader} allows nothing here")]
    writer = {} if writer is True else writer
    changes = _opaque_changes(writer, reader, path, whole)
    changes += value_changes(writer, reader, path, whole.sides)
    changes += _object_changes(writer, reader, path, whole)
    if "items" in reader:
        changes += _uncovered(writer.get("items", True), reader["items"], f"{path}[]", whole)
    return changes


def _opaque_changes(
    writer: dict[str, Any], reader: dict[str, Any], path: str, whole: _Comparison
) -> list[BreakingChange]:
    """Keywords compared as a whole: the writer must hold the reader's, unchanged."""
    changes = []
    for keyword, value in reader.items():
        if keyword in _NOT_OPAQUE or keyword.startswith("x-"):
            continue
        unchanged = keyword in writer and same(writer[keyword], value)
        if keyword in ("$ref", "$dynamicRef"):
            unchanged = unchanged and same(
                _target(whole.writer, value), _target(whole.reader, value)
            )
        if not unchanged:
            changes.append(BreakingChange(path, f"cannot prove compatible: {keyword} changed"))
    return changes


def _object_changes(
    writer: dict[str, Any], reader: dict[str, Any], path: str, whole: _Comparison
) -> list[BreakingChange]:
    """What ``required``, ``properties`` and ``additionalProperties`` of the reader refuse."""
    sides, changes = whole.sides, []
    held_required = set(writer.get("required", []))
    for name in reader.get("required", []):
        if name not in held_required:
            reason = f"is required by {sides.reader}, but {sides.writer} may lack it"
            if sides.writer_is_previous and not path:
                reason += " (an upcast default would fill it)"
            changes.append(BreakingChange(_field(path, name), reason))
    writer_fields, reader_fields = writer.get("properties", {}), reader.get("properties", {})
    writer_rest = writer.get("additionalProperties", True)
    reader_rest = reader.get("additionalProperties", True)
    for name, held in writer_fields.items():
        if name in reader_fields:
            changes += _uncovered(held, reader_fields[name], _field(path, name), whole)
        elif reader_rest is False:
            reason = f"is not allowed by {sides.reader} (closed), but {sides.writer} may carry it"
            if sides.writer_is_previous and not path:
                reason += " (an upcast could drop it)"
            changes.append(BreakingChange(_field(path, name), reason))
        else:
            changes += _uncovered(held, reader_rest, _field(path, name), whole)
    for name, wanted in reader_fields.items():
        if name not in writer_fields and writer_rest is not True:
            changes += _uncovered(writer_rest, wanted, _field(path, name), whole)
    if isinstance(writer_rest, dict) and reader_rest is False:
        reason = f"additionalProperties is false in {sides.reader}, but {sides.writer} may carry"
        changes.append(BreakingChange(_field(path, "*"), f"{reason} undeclared fields"))
    elif isinstance(writer_rest, dict):
        changes += _uncovered(writer_rest, reader_rest, _field(path, "*"), whole)
    return changes


def _target(root: dict[str, Any], reference: str) -> object:
    """What a local reference points at; an anchor, conservatively, as the whole schema."""
    if reference != "#" and not reference.startswith("#/"):
        return root
    node: Any = root
    for escaped in filter(None, unquote(reference[2:]).split("/")):
        token = escaped.replace("~1", "/").replace("~0", "~")
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list) and token.isdigit() and int(token) < len(node):
            node = node[int(token)]
        else:
            return None
    return node


def _field(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
