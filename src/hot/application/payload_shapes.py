"""The shape every payload must have, whatever its schema: no NUL, not too deep.

PostgreSQL's text and JSONB refuse ``\\x00``, and a deeply nested payload would exhaust
a recursive reader (the validator's, the encoder's), so both are refused before either
reads it. The walk is iterative: a payload nested 10,000 deep is refused, not a crash.
It runs for every event, so it visits only containers and tests their strings in place.
"""

from __future__ import annotations

from typing import Any

from hot.application.schema_errors import InvalidPayloadError, PayloadError, dotted

# Containers within containers, the payload object itself being the first.
MAX_PAYLOAD_DEPTH = 32
_NUL = "holds a NUL character"

# A container met on the walk: itself, its key, and the entry of the container that
# holds it; the path is rebuilt from these links only when an error needs it.
_Entry = tuple[Any, "str | int | None", "_Entry | None", int]


def checked_payload_shape(payload: object) -> None:
    """Raise ``InvalidPayloadError`` if a string or key holds NUL or nesting is too deep."""
    errors = payload_shape_errors(payload)
    if errors:
        raise InvalidPayloadError(errors)


def payload_shape_errors(payload: object) -> list[PayloadError]:
    """Every NUL found in a string or key, and each container nested past the limit,
    in path order."""
    if isinstance(payload, str):
        return [PayloadError("", _NUL)] if "\x00" in payload else []
    errors: list[PayloadError] = []
    pending: list[_Entry] = [(payload, None, None, 1)] if isinstance(payload, dict | list) else []
    while pending:
        entry = pending.pop()
        container, _, _, depth = entry
        if depth > MAX_PAYLOAD_DEPTH:
            reason = f"nests deeper than {MAX_PAYLOAD_DEPTH} levels"
            errors.append(PayloadError(_path_of(entry), reason))
            continue
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, value in items:
            if isinstance(key, str) and "\x00" in key:
                reason = f"key {key!r} holds a NUL character"
                errors.append(PayloadError(_path_of(entry), reason))
            if isinstance(value, str):
                if "\x00" in value:
                    errors.append(PayloadError(_path_of((value, key, entry, depth)), _NUL))
            elif isinstance(value, dict | list):
                pending.append((value, key, entry, depth + 1))
    return sorted(errors, key=lambda error: error.path) if len(errors) > 1 else errors


def _path_of(entry: _Entry) -> str:
    segments: list[str | int] = []
    link: _Entry | None = entry
    while link is not None and link[1] is not None:
        segments.append(link[1])
        link = link[2]
    return dotted(segments[::-1])
