"""A follower's tuning: each figure once, with why it is what it is."""

FOLLOWER_CONNECTIONS = 8
"""A follower's pool: one page read at a time, and one read ahead."""

PROJECTION_CONNECTIONS = 4
"""A projection store's pool: a runner holds one connection per batch, and a process
runs a few projections at most."""

FOLLOWER_PAGE = 1000
"""Events a follower reads from the log at a time: large enough that the round trip is
a small part of a page, small enough that a page decodes in a few milliseconds."""

FOLLOWER_BLOCK_SECONDS = 1.0
"""How long a follower's read of Redis blocks waiting for an entry (stop is seen then)."""

FOLLOWER_POLL_SECONDS = 0.5
"""How long a follower with no Redis waits before reading the log's end again."""

FOLLOWER_STALE_SECONDS = 5.0
"""A follower on Redis checks the log this often: if its next event was already due at
the previous check, the relay is down, and it reads the log instead."""
