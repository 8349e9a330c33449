"""``Feed``: where a team's app reads HoT from (the log, and Redis if it has it), built once.

``Feed.connect`` reads ``hot_read`` given a database URL (a SQL reader's role is
enough), or the HTTP API given its URL and a token.

A feed makes followers, and answers the two questions projections ask besides:
the log's head, and its history between two positions (the log only, no Redis:
what a rebuild or a catch-up in one transaction wants). ``follow`` is the short
way to a follower that owns its feed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from hot_follow.api_source import HttpLog
from hot_follow.events import RecordedEvent
from hot_follow.follower import Follower, checked_names
from hot_follow.redis_client import RedisClient, one_slot_problem, redis_client
from hot_follow.sources import EventSource
from hot_follow.sql_read_source import SqlReadLog
from hot_follow.tuning import FOLLOWER_PAGE


@dataclass
class Feed:
    """A log ``source``, and optionally the Redis the relay publishes to under ``prefix``."""

    source: EventSource
    redis: RedisClient | None = None
    prefix: str = "hot"

    @classmethod
    def connect(
        cls,
        database_url: str | None = None,
        redis_url: str | None = None,
        *,
        api_url: str | None = None,
        token: str | None = None,
        prefix: str = "hot",
        redis_cluster: bool = False,
    ) -> Feed:
        """A feed reading ``hot_read`` at ``database_url``, or the API at ``api_url``.

        ``database_url`` may be a SQL reader's (``hot sql-access create``): the feed only
        selects from ``hot_read``, whose personal fields are masked, so its followers
        cannot be ``personal``. Following with personal fields goes over the API, with a
        ``token`` that has the ``personal`` scope. (HoT's own processes, which have the
        application, read its log with ``PostgresLog``.) ``redis_cluster``: ``redis_url``
        names a node of a Redis Cluster (then ``prefix`` needs a hash tag, ``{hot}``).
        """
        if (database_url is None) == (api_url is None):
            raise ValueError("Give either database_url or api_url (with a token).")
        if api_url is not None and not token:
            raise ValueError("Reading the log over HTTP needs a token (scope read).")
        if redis_cluster and (problem := one_slot_problem(prefix)) is not None:
            raise ValueError(f"Following a Redis Cluster: {problem}.")
        source: EventSource = (
            SqlReadLog(database_url)
            if database_url is not None
            else HttpLog(str(api_url), str(token))
        )
        client = redis_client(redis_url, cluster=redis_cluster) if redis_url else None
        return cls(source, client, prefix)

    def follow(self, after: int = 0, names: Sequence[str] = (), **options: Any) -> Follower:
        """A follower of the events after ``after`` of ``names`` (see ``Follower``)."""
        return Follower(
            self.source, self.redis, after=after, names=names, prefix=self.prefix, **options
        )

    def head(self, names: Sequence[str] = ()) -> int | None:
        """The log's newest position (None if the source cannot tell)."""
        return self.source.head(checked_names(names))

    def history(
        self,
        after: int = 0,
        names: Sequence[str] = (),
        *,
        until: int | None = None,
        page_size: int = FOLLOWER_PAGE,
        personal: bool = False,
    ) -> Iterator[list[RecordedEvent]]:
        """Pages of the log after ``after`` up to ``until`` (or its end), from the log only.

        Personal fields are masked unless ``personal`` (as a follower's).
        """
        wanted = checked_names(names)
        while until is None or after < until:
            page = list(self.source.read(after, page_size, wanted, until, personal=personal))
            if page:
                yield page
                after = page[-1].position
            if len(page) < page_size:
                return

    def close(self) -> None:
        self.source.close()
        if self.redis is not None:
            self.redis.close()


def follow(
    after: int = 0,
    names: Sequence[str] = (),
    *,
    database_url: str | None = None,
    redis_url: str | None = None,
    api_url: str | None = None,
    token: str | None = None,
    prefix: str = "hot",
    redis_cluster: bool = False,
    **options: Any,
) -> Follower:
    """A follower with a feed of its own, closed with it::

    with follow(0, ["HUMAN_JOINED"], database_url=..., redis_url=...) as events:
        for event in events:
            ...
    """
    feed = Feed.connect(
        database_url,
        redis_url,
        api_url=api_url,
        token=token,
        prefix=prefix,
        redis_cluster=redis_cluster,
    )
    try:
        return feed.follow(after, names, on_close=[feed.close], **options)
    except BaseException:
        feed.close()
        raise
