"""Declarative upcasts of team event payloads: from version N-1 to version N, no code.

An upcast is stored with version N as JSON::

    {"rename": {"old": "new"}, "defaults": {"field": <JSON value>}, "drop": ["field"]}

Every key is optional. Applied to a top-level payload in a fixed order: rename (all at
once, so ``{"a": "b", "b": "a"}`` swaps; a renamed value wins over a field already
holding the new name), then drop, then defaults for the fields still absent. A default
is copied each time it is applied, so no two payloads share a list. HoT checks an
upcast when a version declares it; a follower reads it as stored (``from_json``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import msgspec

from hot_follow.events import RecordedEvent


@dataclass(frozen=True)
class Upcast:
    """How a payload of the previous version becomes one of this version."""

    rename: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    defaults: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    drop: tuple[str, ...] = ()

    @classmethod
    def from_json(cls, upcast: Mapping[str, Any]) -> Upcast:
        """The upcast as HoT stores and shows it (``to_json``), checked when declared."""
        return cls(
            MappingProxyType(dict(upcast.get("rename", {}))),
            MappingProxyType(_fresh(dict(upcast.get("defaults", {})))),
            tuple(upcast.get("drop", ())),
        )

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
        """The upcast as it is stored and shown; ``from_json`` reads it back."""
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


def _fresh(value: Any) -> Any:
    """A copy of a JSON value sharing no list or object with it (defaults are shallow)."""
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    return value
