"""The seam: followers start while 10,000 events are written and the relay publishes them.

Each follower catches up from PostgreSQL while writers keep adding events, hands
over to Redis, and must see every event of its names exactly once, in log order:
the lists are compared with the whole log at the end.
"""

from __future__ import annotations

import pytest

from hot.application import HumansApplication
from hot.infra.relay import Relay
from hot_follow import Feed
from tests.waiting import wait_until

from .conftest import Collector, full_log, writing

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

HUMANS, DAYS = 200, 46  # 200 lives of 50 public events: 10,000 events


def test_followers_started_during_a_load_see_every_event_once_in_order(
    app: HumansApplication, feed: Feed, relay: Relay
) -> None:
    starts = [  # (when the log has this many events, names, page size)
        (500, (), 1000),
        (3000, ("HUMAN_JOINED", "HUMAN_ATTENDED"), 200),
        (6000, (), 50),  # small pages: a slow catch-up that the writers keep moving
        (8000, ("HUMAN_LEFT",), 1000),
    ]
    collectors: list[tuple[tuple[str, ...], Collector]] = []
    with writing(app, HUMANS, DAYS, writers=12):
        for count, names, page_size in starts:
            wait_until(lambda c=count: app.head() >= c * 1.1, 120, f"{count} events written")
            collector = Collector(feed.follow(0, names, page_size=page_size, personal=True))
            collector.start()
            collectors.append((names, collector))

    try:
        for names, collector in collectors:
            expected = full_log(app, names)
            wait_until(
                lambda c=collector, e=expected: c.follower.position >= e[-1].position,
                60,
                f"the follower of {names or 'everything'} reaches {expected[-1].position}",
            )
            collector.follower.stop()
            collector.join(5)
            got = collector.events
            assert len(full_log(app)) == HUMANS * (DAYS + 4)
            assert [e.position for e in got] == [e.position for e in expected]
            assert got == expected
            assert collector.follower.from_redis > 0, "the follower never read Redis"
    finally:
        for _, collector in collectors:
            collector.follower.close()
