"""An upcast a team declares with a version, checked: ``parse_upcast``.

What an upcast is and how it applies is the read contract's (``hot_follow.upcasts``):
a follower applies the same upcasts as ``GET /events?as_version=latest``. A default
must have the shape of a payload's value (``payload_shapes``), as it becomes one.
"""

from __future__ import annotations

from typing import Any

from hot.application.payload_shapes import payload_shape_errors
from hot.application.schema_errors import InvalidSchemaError, dotted
from hot_follow.upcasts import Upcast

_KEYS = ("rename", "defaults", "drop")


def parse_upcast(upcast: object) -> Upcast:
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
    return Upcast.from_json({"rename": rename, "defaults": defaults, "drop": drop})


def _object(value: object, path: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise InvalidSchemaError(path, "must be a JSON object")
    return dict(value)


def _defaults(value: object) -> dict[str, Any]:
    """The declared defaults, if each could stand in a payload (no NUL, not too deep)."""
    defaults = _object(value, "upcast.defaults")
    for error in payload_shape_errors(defaults):
        raise InvalidSchemaError(dotted(["upcast.defaults", error.path]), error.message)
    return defaults


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
