"""Following HoT: build your app's state from the history, then stay current, exactly once.

    from hot_follow import follow

    with follow(after=0, names=["HUMAN_JOINED"], database_url=..., redis_url=...) as events:
        for event in events:          # RecordedEvent, in log order, each exactly once
            ...

- ``Follower`` / ``follow``: the events after a position, from ``hot_read`` (with a SQL
  reader's URL, ``SqlReadLog``) or the HTTP API (``HttpLog``), then from the relay's
  Redis streams, falling back to the log by itself. (HoT's own processes read its
  tables with ``hot.infra.postgres_log.PostgresLog``.)
- ``Projection`` + ``handles``, a ``ProjectionStore`` (PostgreSQL or SQLite) and a
  ``ProjectionRunner``: state whose position commits with its writes; ``rebuild()``;
  ``status()`` (``ProjectionStatus``: where it is ``Stuck``, the ``Skip``s) and ``skip()``.
- ``ConsumerGroup``: competing consumers with acknowledgement and claiming.

- ``RecordedEvent``: an event as every reader sees it; ``MASKED``, what a personal
  field reads as without the ``personal`` scope, and ``FORGOTTEN`` once its human is
  forgotten.

Errors are drawn in ``hot_follow.errors``; the contract's pieces (the event's JSON
representation, the Redis stream entries, the names, upcasts) have modules of their own.

Each name here is imported when first used, so that a module of the contract (say
``hot_follow.names``) is read without the follower's clients (Redis, HTTP).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hot_follow.api_source import HttpLog
    from hot_follow.errors import (
        AccessDeniedError,
        FollowerError,
        HandlerFailedError,
        PersonalFieldsRefusedError,
        ProjectionConflictError,
        RebuildFailedError,
        SkipRefusedError,
        SourceUnavailableError,
        UnknownEventNameError,
    )
    from hot_follow.events import RecordedEvent
    from hot_follow.feed import Feed, follow
    from hot_follow.follower import Follower
    from hot_follow.groups import ConsumerGroup, Delivery
    from hot_follow.progress import Progress
    from hot_follow.projection import Projection, handles
    from hot_follow.representation import FORGOTTEN, MASKED
    from hot_follow.runner import ProjectionRunner
    from hot_follow.sources import EventSource
    from hot_follow.sql_read_source import SqlReadLog
    from hot_follow.standing import ProjectionStatus, Skip, Stuck
    from hot_follow.stores import PostgresProjectionStore, ProjectionStore, SqliteProjectionStore

_MODULES = {
    "AccessDeniedError": "hot_follow.errors",
    "ConsumerGroup": "hot_follow.groups",
    "Delivery": "hot_follow.groups",
    "EventSource": "hot_follow.sources",
    "Feed": "hot_follow.feed",
    "Follower": "hot_follow.follower",
    "FORGOTTEN": "hot_follow.representation",
    "FollowerError": "hot_follow.errors",
    "HandlerFailedError": "hot_follow.errors",
    "HttpLog": "hot_follow.api_source",
    "MASKED": "hot_follow.representation",
    "PersonalFieldsRefusedError": "hot_follow.errors",
    "PostgresProjectionStore": "hot_follow.stores",
    "Progress": "hot_follow.progress",
    "Projection": "hot_follow.projection",
    "ProjectionConflictError": "hot_follow.errors",
    "ProjectionRunner": "hot_follow.runner",
    "ProjectionStatus": "hot_follow.standing",
    "ProjectionStore": "hot_follow.stores",
    "RebuildFailedError": "hot_follow.errors",
    "RecordedEvent": "hot_follow.events",
    "Skip": "hot_follow.standing",
    "SkipRefusedError": "hot_follow.errors",
    "SourceUnavailableError": "hot_follow.errors",
    "SqlReadLog": "hot_follow.sql_read_source",
    "SqliteProjectionStore": "hot_follow.stores",
    "Stuck": "hot_follow.standing",
    "UnknownEventNameError": "hot_follow.errors",
    "follow": "hot_follow.feed",
    "handles": "hot_follow.projection",
}


def __getattr__(name: str) -> Any:
    """The exported ``name``, imported from its module on first use."""
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module 'hot_follow' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # found directly next time
    return value


__all__ = [
    "FORGOTTEN",
    "MASKED",
    "AccessDeniedError",
    "ConsumerGroup",
    "Delivery",
    "EventSource",
    "Feed",
    "Follower",
    "FollowerError",
    "HandlerFailedError",
    "HttpLog",
    "PersonalFieldsRefusedError",
    "PostgresProjectionStore",
    "Progress",
    "Projection",
    "ProjectionConflictError",
    "ProjectionRunner",
    "ProjectionStatus",
    "ProjectionStore",
    "RebuildFailedError",
    "RecordedEvent",
    "Skip",
    "SkipRefusedError",
    "SourceUnavailableError",
    "SqlReadLog",
    "SqliteProjectionStore",
    "Stuck",
    "UnknownEventNameError",
    "follow",
    "handles",
]
