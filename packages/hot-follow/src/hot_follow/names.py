"""Which names can name HoT's events, and which of their fields are personal data.

HoT's built-in events are listed here with their personal fields (a test in HoT holds
this table equal to HoT's own catalog). Any other name is a team type's if it is
well formed: UPPER_SNAKE_CASE, not starting as a built-in's does. A team type's
personal fields are those its version declares (``x-personal``); the events carry
them masked already to a reader without the ``personal`` scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from types import MappingProxyType

BUILT_IN_PERSONAL_FIELDS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "HUMAN_REGISTERED": ("name", "email"),
        "HUMAN_JOINED": (),
        "HUMAN_LEFT": ("reason",),
        "HUMAN_ATTENDED": (),
        "HUMAN_DETAILS_CHANGED": ("name", "email"),
        "HUMAN_EXTERNAL_ID_SET": ("value",),
        "HUMAN_FORGOTTEN": (),
        "EVENT_TYPE_REGISTERED": (),
        "EVENT_TYPE_VERSION_ADDED": (),
        "EVENT_TYPE_VERSION_DEPRECATED": (),
    }
)
"""Each built-in event's name, and the payload fields of it that hold personal data."""

TYPE_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)*$")
"""How a team type's name is written: UPPER_SNAKE_CASE, starting with a letter."""

MAX_NAME = 64
"""The longest a team type's name may be."""

RESERVED_PREFIXES = ("HUMAN_", "EVENT_TYPE_")
"""How the built-ins' names begin: no team type's may."""


def is_team_type_name(name: str) -> bool:
    """Whether ``name`` is well formed for a team's type (and clashes with no built-in)."""
    return (
        isinstance(name, str)
        and len(name) <= MAX_NAME
        and TYPE_NAME.match(name) is not None
        and not name.startswith(RESERVED_PREFIXES)
    )


def can_name_events(name: str) -> bool:
    """Whether ``name`` is a built-in event's, or could be a team type's."""
    return name in BUILT_IN_PERSONAL_FIELDS or is_team_type_name(name)


def unknown_names(names: Iterable[str]) -> list[str]:
    """The ``names`` that can name no event (a reader's filter, say, misspelt)."""
    return [name for name in names if not can_name_events(name)]
