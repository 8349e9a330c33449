"""The seed's standup event type, two versions of its payload schema: test data."""

from __future__ import annotations

from typing import Any

STANDUP_V1: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "ecode": {"type": "string", "x-personal": True},
        "project": {"type": "string"},
        "standup": {"type": "string"},
        "date": {"type": "string", "format": "date"},
    },
    "required": ["ecode", "project", "standup", "date"],
}

STRINGS = {"type": "array", "items": {"type": "string"}}

STANDUP_V2: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        **STANDUP_V1["properties"],
        "source": {"type": "string"},
        "issues": STRINGS,
        "notes": STRINGS,
        "isDelivered": {"type": "boolean"},
    },
    "required": [*STANDUP_V1["required"], "issues", "notes", "isDelivered"],
}

# v1 -> v2: the three new required fields get defaults; nothing is renamed.
STANDUP_V1_TO_V2 = {"defaults": {"issues": [], "notes": [], "isDelivered": False}}

STANDUP_V1_PAYLOAD = {
    "ecode": "E042",
    "project": "psychohistory",
    "standup": "Checked the Prime Radiant's equations against the Seldon Plan.",
    "date": "2026-03-02",
}

STANDUP_V2_PAYLOAD = {
    **STANDUP_V1_PAYLOAD,
    "source": "slack",
    "issues": ["HOT-16", "HOT-18"],
    "notes": ["pairing with Gaal after lunch"],
    "isDelivered": True,
}
