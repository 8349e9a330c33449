"""``new_id``: random (version 4) UUIDs, drawn from the OS many at a time.

``uuid.uuid4`` asks the OS for 16 bytes per id. In the API process that system call
lets another thread take the GIL, and the event loop then waits to get it back; one
``os.urandom`` call per ``BATCH`` ids keeps that wait off almost every command.
"""

from __future__ import annotations

import os
import threading
from uuid import UUID

BATCH = 256

_local = threading.local()
# A forked child must not hand out the ids its parent still holds.
os.register_at_fork(after_in_child=lambda: _local.__dict__.clear())


def new_id() -> UUID:
    """A new random UUID (RFC 9562 version 4), as ``uuid.uuid4()`` makes."""
    ids: list[UUID] | None = getattr(_local, "ids", None)
    if not ids:
        ids = _local.ids = _draw(BATCH)
    return ids.pop()


def _draw(count: int) -> list[UUID]:
    random = os.urandom(16 * count)
    return [UUID(bytes=random[i : i + 16], version=4) for i in range(0, 16 * count, 16)]
