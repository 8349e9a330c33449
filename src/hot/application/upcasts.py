"""Declarative upcasts of team event payloads: from version N-1 to version N, no code.

An upcast is stored with version N as JSON::

    {"rename": {"old": "new"}, "defaults": {"field": <JSON value>}, "drop": ["field"]}

Every key is optional. Applied to a top-level payload in a fixed order: rename (all at
once, so ``{"a": "b", "b": "a"}`` swaps; a renamed value wins over a field already
holding the new name), then drop, then defaults for the fields still absent. A default
is copied each time it is applied, so no two payloads share a list; it must have the
shape of a payload's value (``payload_shapes``), as it becomes one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import msgspec

from hot.application.payload_shapes import payload_shape_errors
from hot.application.schema_errors import InvalidSchemaError, dotted
from hot.application.views import RecordedEvent

_KEYS = ("rename", "defaults", "drop")


@dataclass(frozen=True)
class Upcast:
    """How a payload of the previous version becomes one of this version."""

    rename: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    drop: tuple[str, ...] = ()

    @classmethod
    def parse(cls, upcast: object) -> Upcast:
        """The upcast a request declares, or ``InvalidSchemaError`` naming the bad path."""
        if not isinstance(upcast, dict):
            raise InvalidSchemaError("upcast", "must be a JSON object")
        for key in upcast:
            if key not in _KEYS:
                raise InvalidSchemaError(
                    f"upcast.{key}", "is not an upcast key (rename, defaults, drop)"
                )
        rename = _names_to_names(upcast.get("rename", {}))
        defaults = _defaults(upcast.get("defaults", {}))
        drop = _names(upcast.get("drop", []))
        for index, name in enumerate(drop):
            if name in rename.values():
                raise InvalidSchemaError(f"upcast.drop.{index}", f"drops {name!r}, a rename target")
        return cls(MappingProxyType(rename), MappingProxyType(defaults), drop)

    def apply(self, payload: Mapping[str, Any]) -> dict[str, Any]:
        """A new payload: ``payload`` renamed, then with fields dropped, then defaulted."""
        upcast = {name: value for name, value in payload.items() if name not in self.rename}
        for old, new in self.rename.items():
            if old in payload:
                upcast[new] = payload[old]
        for name in self.drop:
            upcast.pop(name, None)
        for name, default in self.defaults.items():
            if name not in upcast:
                upcast[name] = _fresh(default)
        return upcast

    def to_json(self) -> dict[str, Any]:
        """The upcast as it is stored and shown; ``Upcast.parse`` reads it back."""
        return {
            "rename": dict(self.rename),
            "defaults": _fresh(dict(self.defaults)),
            "drop": list(self.drop),
        }


def at_latest(event: RecordedEvent, upcasts: Sequence[Upcast | None]) -> RecordedEvent:
    """``event`` at the latest of its type's versions, whose upcasts are ``upcasts``
    (version 1's first: ``None`` where a version declares none); as it is when it is
    at the latest already, or of no such type (no upcasts)."""
    if event.version >= len(upcasts):
        return event
    payload = upcast_chain(event.payload, upcasts[event.version :])  # the versions after it
    return msgspec.structs.replace(event, version=len(upcasts), payload=payload)


def upcast_chain(payload: Mapping[str, Any], upcasts: Sequence[Upcast | None]) -> dict[str, Any]:
    """``payload`` brought through each version's upcast in turn (``None``: unchanged)."""
    upcast = dict(payload)
    for step in upcasts:
        if step is not None:
            upcast = step.apply(upcast)
    return upcast


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidSchemaError(path, "must be a JSON object")
    return dict(value)


def _defaults(value: object) -> dict[str, Any]:
    """The declared defaults, if each could stand in a payload (no NUL, not too deep)."""
    defaults = _object(value, "upcast.defaults")
    for error in payload_shape_errors(defaults):
        raise InvalidSchemaError(dotted(["upcast.defaults", error.path]), error.message)
    fresh: dict[str, Any] = _fresh(defaults)
    return fresh


def _fresh(value: Any) -> Any:
    """A copy of a JSON value sharing no list or object with it (defaults are shallow)."""
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value


def _names_to_names(value: object) -> dict[str, str]:
    rename = _object(value, "upcast.rename")
    targets: dict[str, str] = {}
    for old, new in rename.items():
        if not isinstance(new, str) or not new:
            raise InvalidSchemaError(f"upcast.rename.{old}", "must be a field name (a string)")
        if new in targets:
            raise InvalidSchemaError(
                f"upcast.rename.{old}", f"renames to {new!r}, as {targets[new]!r} does"
            )
        targets[new] = old
    return rename


def _names(value: object) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise InvalidSchemaError("upcast.drop", "must be a list of field names")
    for index, name in enumerate(value):
        if not isinstance(name, str):
            raise InvalidSchemaError(f"upcast.drop.{index}", "must be a field name (a string)")
    return tuple(value)
