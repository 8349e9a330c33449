"""Compatibility modes of a team event type, and what breaks them in a new version.

The modes are Confluent Schema Registry's, non-transitive: a new version is compared
with the previous (latest) one only.

- ``BACKWARD`` (the default): the new version reads old events once the version's
  upcast has run on them. The previous schema is first rewritten as the upcast leaves
  old events (fields renamed, dropped, defaulted fields required), then the new schema
  must accept all it allows. So a new required field breaks unless the upcast gives it
  a default; a removed field breaks only if the new schema is closed
  (``additionalProperties: false``) and the upcast does not drop it; a type change or
  a narrowed enum breaks, a widened enum or type list does not. The upcast itself must
  make sense: it renames and drops fields the previous version has, renames to and
  defaults fields the new version has, and each default is valid there.
- ``FORWARD``: the previous version reads new events, as they are. A field the previous
  version required and the new one may omit breaks; a field added breaks only if the
  previous schema was closed; a type change or a widened enum breaks; a narrowed enum or
  a new required field does not.
- ``FULL``: both. ``NONE``: nothing is checked.

Within both, objects are compared field by field at any depth (``address.city``),
arrays by their ``items`` (``issues[]``), and anything not understood (``oneOf``,
``$ref``, ``if``, ``pattern``, ...) must be unchanged or is reported as "cannot prove
compatible" (see ``schema_coverage``, which also states the one leniency: fields an
open schema does not declare are assumed absent). Schemas are ones ``checked_schema``
accepted.
"""

from __future__ import annotations

from typing import Any

from hot.application.payload_schemas import field_value_errors
from hot.application.reading_sides import READ_BY_NEW, READ_BY_PREVIOUS, BreakingChange, as_json
from hot.application.schema_coverage import uncovered
from hot.domain.event_types import Compatibility
from hot_follow.upcasts import Upcast

__all__ = ["BreakingChange", "Compatibility", "breaking_changes"]


def breaking_changes(
    previous: dict[str, Any],
    new: dict[str, Any],
    mode: Compatibility,
    upcast: Upcast | None = None,
) -> list[BreakingChange]:
    """Why ``new`` may not follow ``previous`` under ``mode``; empty if it may.

    ``upcast`` is the new version's, from ``previous``; only the backward check (under
    ``BACKWARD`` and ``FULL``) reads through it, the previous version never does.
    """
    changes: list[BreakingChange] = []
    if mode in (Compatibility.BACKWARD, Compatibility.FULL):
        if upcast is not None:
            changes += _upcast_mistakes(previous, new, upcast)
        changes += uncovered(_as_upcast(previous, upcast), new, READ_BY_NEW)
    if mode in (Compatibility.FORWARD, Compatibility.FULL):
        changes += [c for c in uncovered(new, previous, READ_BY_PREVIOUS) if c not in changes]
    return changes


def _as_upcast(previous: dict[str, Any], upcast: Upcast | None) -> dict[str, Any]:
    """The previous schema as old events are once ``upcast`` has run on them."""
    if upcast is None:
        return previous
    fields = {
        upcast.rename.get(name, name): schema
        for name, schema in previous.get("properties", {}).items()
    }
    required = {upcast.rename.get(name, name) for name in previous.get("required", [])}
    for name in upcast.drop:
        fields.pop(name, None)
        required.discard(name)
    for name in upcast.defaults:
        # An old event lacking the field gets the default, checked on its own; one
        # holding it keeps its value, which the previous schema describes.
        fields.setdefault(name, False)
        required.add(name)
    return {**previous, "properties": fields, "required": sorted(required)}


def _upcast_mistakes(
    previous: dict[str, Any], new: dict[str, Any], upcast: Upcast
) -> list[BreakingChange]:
    """Renames, drops and defaults naming fields the versions lack, and refused defaults."""
    had, has = previous.get("properties", {}), new.get("properties", {})
    mistakes = []
    for old, renamed in upcast.rename.items():
        if old not in had:
            reason = f"the upcast renames {old!r}, which the previous version does not have"
            mistakes.append(BreakingChange(old, reason))
        if renamed not in has:
            reason = f"the upcast renames {old!r} to {renamed!r}, which the new version lacks"
            mistakes.append(BreakingChange(renamed, reason))
    for name in upcast.drop:
        if name not in had:
            reason = f"the upcast drops {name!r}, which the previous version does not have"
            mistakes.append(BreakingChange(name, reason))
    for name, default in upcast.defaults.items():
        if name not in has:
            reason = f"the upcast gives {name!r} a default, but the new version lacks it"
            mistakes.append(BreakingChange(name, reason))
            continue
        for message in field_value_errors(new, name, default):
            reason = f"the upcast's default {as_json(default)} is refused by the new version"
            mistakes.append(BreakingChange(name, f"{reason}: {message}"))
    return mistakes
