"""``RecordedEvent``: an event as every reader of HoT sees it."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import msgspec

MAX_PAGE = 10_000
"""Events a page of the log or a human's history holds at most (``GET /events``'s
``limit``): the most a follower asks the API for at once."""


class RecordedEvent(msgspec.Struct, frozen=True, gc=False):
    """An event as every reader sees it: the catalog envelope plus where it sits.

    ``sequence`` is the human's version after the event, ``position`` its place in
    the global log, ``time`` when it was recorded; ``payload`` is JSON-ready.

    A frozen msgspec ``Struct``, not a dataclass: a catch-up makes millions, and a
    Struct is made in C, several times faster (``msgspec.structs.replace`` copies one
    with changes). Nothing it holds refers back to it, so the cyclic collector need
    not track it (``gc=False``).
    """

    id: UUID
    name: str
    version: int
    subject: UUID
    sequence: int
    position: int
    time: datetime
    payload: dict[str, Any]
