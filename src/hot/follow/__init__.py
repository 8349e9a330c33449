"""Following HoT: build your app's state from the history, then stay current, exactly once.

    from hot.follow import follow

    with follow(after=0, names=["HUMAN_JOINED"], database_url=..., redis_url=...) as events:
        for event in events:          # RecordedEvent, in log order, each exactly once
            ...

- ``Follower`` / ``follow``: the events after a position, from ``hot_read`` (with a SQL
  reader's URL, ``SqlReadLog``) or the HTTP API (``HttpLog``), then from the relay's
  Redis streams, falling back to the log by itself. HoT's own processes read the log
  with ``PostgresLog``.
- ``Projection`` + ``handles``, a ``ProjectionStore`` (PostgreSQL or SQLite) and a
  ``ProjectionRunner``: state whose position commits with its writes; ``rebuild()``;
  ``status()`` (``ProjectionStatus``: where it is ``Stuck``, the ``Skip``s) and ``skip()``.
- ``ConsumerGroup``: competing consumers with acknowledgement and claiming.

Errors are drawn in ``hot.follow.errors``.
"""

from hot.follow.api_source import HttpLog
from hot.follow.errors import (
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
from hot.follow.feed import Feed, follow
from hot.follow.follower import Follower
from hot.follow.groups import ConsumerGroup, Delivery
from hot.follow.progress import Progress
from hot.follow.projection import Projection, handles
from hot.follow.runner import ProjectionRunner
from hot.follow.sources import EventSource, PostgresLog
from hot.follow.sql_read_source import SqlReadLog
from hot.follow.standing import ProjectionStatus, Skip, Stuck
from hot.follow.stores import PostgresProjectionStore, ProjectionStore, SqliteProjectionStore

__all__ = [
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
    "PostgresLog",
    "PostgresProjectionStore",
    "Progress",
    "Projection",
    "ProjectionConflictError",
    "ProjectionRunner",
    "ProjectionStatus",
    "ProjectionStore",
    "RebuildFailedError",
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
