"""HoT's tuning constants in one place, each with the reason for its value.

Limits that are part of HoT's contract (page sizes, header formats) live with the
code that checks them; these are the knobs that trade memory, latency and throughput,
measured on the benchmarks in ``bench/``.
"""

from __future__ import annotations

# Commands ---------------------------------------------------------------------------

MAX_BATCH = 500
"""Commands one transaction takes at most: a saturated committer batches tens of them;
500 bounds one transaction's round trip to a few milliseconds."""

MAX_ATTEMPTS = 25
"""Decisions of one command before it is refused as a conflict: each lost race means
another process wrote the same human meanwhile, and 25 in a row means a hot spot."""

WORKER_THREADS = 32
"""Threads for blocking work (fresh loads, reads of the log): more only wait for the
interpreter lock; the commands of the event loop do not take one."""

DEADLINE_SECONDS = 15.0
"""How long a use case may take before it answers 503: the library retries a lost
connection for longer, and a client is better told to retry."""

SNAPSHOT_INTERVAL = 100
"""A human is snapshotted every 100 versions, so a load replays at most 99 events."""

KNOWN_AGGREGATES = 20_000
"""Aggregates a process keeps to decide on: humans and email claims of a busy day,
a few kilobytes each."""

SEEN_AGGREGATES = 100_000
"""Recently changed aggregates whose latest version is kept, so that a state older than
the log's is never remembered: far more than change between a commit and its answer."""

IDS_DRAWN_AT_ONCE = 256
"""Random ids drawn from the OS in one system call (which lets go of the interpreter
lock): 4 KiB at a time, one call per hundreds of commands."""

# Connections ---------------------------------------------------------------------------

PERSONAL_KEY_CONNECTIONS = 4
"""The personal-key store's pool: most reads hit its cache and a miss is one indexed
query well under a millisecond, so a few connections serve every thread."""

API_KEY_CONNECTIONS = 2
"""The API key store's pool: a verified token is cached, so only a new or expired one
queries, and the key commands (create, list, revoke) are rare."""

PROJECTION_CONNECTIONS = 4
"""A projection store's pool: a runner holds one connection per batch, and a process
runs a few projections at most."""

# The streams ---------------------------------------------------------------------------

WRITE_THROUGH_TIMEOUT_SECONDS = 1.0
"""A Redis slower than this to answer the write-through is left to the relay: a write
never waits long for a publish that the relay makes anyway."""

WRITE_THROUGH_REST_SECONDS = 5.0
"""After a Redis error the relay alone publishes this long: a Redis that is down or
slow does not slow every write."""

WRITE_THROUGH_MAX_EVENTS = 2000
"""A larger transaction (an import) is left to the relay, which publishes it in batches
rather than in one long step that holds up every other client of Redis."""
