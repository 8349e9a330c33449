"""Where a projection stands: its position, the event it is stuck on, the positions skipped.

When a handler fails on an event, the runner records it (``Stuck``) in the
projection's own database and tries again; only a ``Skip`` recorded on purpose, with
who and why, makes it go past that event. Both stay readable (``read_status``): a
projection that stopped moving says where and why, and no event is passed silently.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from hot_follow.errors import SkipRefusedError

if TYPE_CHECKING:
    from hot_follow.stores import ProjectionStore

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Stuck:
    """The event a handler fails on; the projection has applied every event before it."""

    position: int
    event_name: str
    error: str  # the handler's error, on one line
    since: datetime  # the first failure at this position


@dataclass(frozen=True)
class Skip:
    """A position whose event the projection never applies, recorded on purpose."""

    position: int
    skipped_by: str
    reason: str
    skipped_at: datetime


@dataclass(frozen=True)
class ProjectionStatus:
    """A projection's position, where it is stuck (if it is), and every skip recorded."""

    name: str
    position: int
    stuck: Stuck | None
    skips: tuple[Skip, ...]


def read_status(store: ProjectionStore[Any], name: str) -> ProjectionStatus:
    """Where the projection ``name`` stands, read in one transaction of ``store``."""
    with store.transaction() as tx:
        store.prepare(tx, name)
        return ProjectionStatus(
            name, store.position(tx, name), store.stuck(tx, name), tuple(store.skips(tx, name))
        )


def skip_position(
    store: ProjectionStore[Any], name: str, position: int, *, by: str, reason: str
) -> Skip:
    """Record that the projection ``name`` never applies the event at ``position``.

    Refused (``SkipRefusedError``) without who and why, or for a position the
    projection has already passed or skipped.
    """
    who, why = " ".join(by.split()), " ".join(reason.split())
    if not why:
        raise SkipRefusedError(
            f"Say why position {position} is skipped: the reason is recorded with the skip."
        )
    if not who:
        raise SkipRefusedError(f"Say who skips position {position}: it is recorded too.")
    skip = Skip(position, who, why, datetime.now(UTC))
    with store.transaction() as tx:
        store.prepare(tx, name)
        store.record_skip(tx, name, skip)
    log.warning("projection %s: position %d skipped by %s: %s", name, position, who, why)
    return skip
