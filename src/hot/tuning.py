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

NONCES_DRAWN_AT_ONCE = 256
"""The nonces sealing personal data, drawn from the OS the same way, by the committer."""

# The interpreter of a ``hot`` process (``hot.cli.runtime``) -----------------------------

GC_THRESHOLDS = (50_000, 20, 100)
"""Young objects are collected every 50,000 allocations rather than 700: a command, a
page of the log or a relay batch makes thousands of short-lived containers, which
reference counting frees; collecting them over and over found nothing to free."""

# Connections ---------------------------------------------------------------------------

EVENTS_POOL_IDLE = 10
"""Connections the application's events pool keeps open: a burst of reads starts
without connecting; ``hot serve``'s committer holds one of them."""

EVENTS_POOL_MORE = 70
"""Connections the events pool may open beyond those under load (the worker threads'
reads, the relay's): 80 in all, within PostgreSQL's default 100 for one process."""

PERSONAL_KEY_CONNECTIONS = 4
"""The personal-key store's pool: most reads hit its cache and a miss is one indexed
query well under a millisecond, so a few connections serve every thread."""

API_KEY_CONNECTIONS = 2
"""The API key store's pool: a verified token is cached, so only a new or expired one
queries, and the key commands (create, list, revoke) are rare."""

RECONNECT_SECONDS = 0.5
"""The longest a pool waits between attempts to connect to a PostgreSQL that is down or
restarting (``hot.infra.pools``): back within half a second of the server, for one
connection attempt (refused at once while it is down) every half second per pool."""

# Replicas (``hot.infra.replicas``) --------------------------------------------------------

REPLICA_CONNECTIONS = 16
"""A replica's pool in each process: the worker threads' reads of the log, half of them."""

REPLICA_CHECK_SECONDS = 1.0
"""How often each replica's head is compared with the primary's: a replica down or
lagging is left out within a second (a read that fails on it leaves it out at once)."""

REPLICA_MAX_LAG = 1000
"""Events a replica may be behind the primary and still serve reads (``HOT_REPLICA_MAX_LAG``):
at hundreds of commits a second, a second or two of replay."""

READ_YOUR_WRITES_WAIT_SECONDS = 0.5
"""How long a read that passes ``min_position`` waits for a replica to replay that far
before it is served by the primary: streaming replay is milliseconds behind, so a wait
this long means the replica is stuck or far behind."""

READ_YOUR_WRITES_POLL_SECONDS = 0.005
"""How often such a read asks its replica how far it has replayed."""

# Keys and tokens -----------------------------------------------------------------------

PERSONAL_KEY_CACHE_SECONDS = 2.0
"""How long a process keeps a human's key: the forgetting's notification drops it at
once; this bounds how long a missed notification could keep it."""

PERSONAL_KEY_LISTEN_START_SECONDS = 5.0
"""How long a new key store waits for its listener before it works on without it."""

API_KEY_CACHE_LIMIT = 10_000
"""Verified tokens a process remembers (for ``HOT_API_KEY_CACHE_SECONDS``)."""

# Following the log ---------------------------------------------------------------------

# A follower's own (its pools, pages, waits) are in ``hot_follow.tuning``.

DECODE_SHARE_EVERY = 100
"""Rows a decoder decodes before it lets go of the interpreter lock for a moment: a
thread reading the next page ahead gets it then, not after the 5 ms switch interval
(a catch-up reading ahead gains about 8% by it)."""

COMMIT_LISTENER_PAGE = 1000
"""Rows a commit listener reads at a time when a notification carried none."""

LISTENER_RECONNECT_SECONDS = 1.0
"""How long a listener whose connection dropped waits before connecting again."""

# The relay -----------------------------------------------------------------------------

RELAY_BATCH = 2000
"""Events the relay reads and publishes in one step: one script call a batch, which
holds Redis for a few milliseconds at most."""

RELAY_POLL_SECONDS = 1.0
"""The relay's safety poll when no notification comes (it also checks that Redis still
has what was published)."""

RELAY_TAKEOVER_SECONDS = 0.5
"""How often a standing-by relay tries the lock: a dead relay is replaced within it."""

RELAY_BACKOFF_SECONDS = 0.5
"""How long the relay waits after an error of PostgreSQL or Redis before trying again."""

RELAY_STOP_CHECK_SECONDS = 0.2
"""How often a waiting relay looks whether it was asked to stop."""

LAG_CHECK_SECONDS = 5.0
"""How often a relay that is behind counts what it has left: counting scans the log."""

LAG_CAP = 100_000
"""Counting events not yet published stops here: "at least 100,000" says enough."""

SQL_READ_BATCH = 2000
"""Public events the SQL read projector copies into ``hot_read`` in one transaction: a
page of the log, as the relay reads it (it polls and takes over at the relay's pace)."""

SQL_READ_INTERVAL_SECONDS = 0.1
"""How long the SQL read projector, at the log's end, lets commits gather before it reads
the next page: each page costs PostgreSQL a dozen statements whatever its size, and a
page per commit (hundreds a second under load) took half the writers' throughput on two
cores. A dashboard does not notice a tenth of a second."""

SQL_READ_HUMANS_KEPT = 100_000
"""Humans' rows the active SQL read projector keeps between pages (each a few hundred
bytes), so that a page reads only the rows of humans it has not seen: past this, it
forgets them all and reads them again as they come."""

RETENTION_REFRESH_SECONDS = 30.0
"""How often an age-based retention finds again where the window begins."""

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

# Metrics ----------------------------------------------------------------------------

METRICS_SAMPLE_SECONDS = 5.0
"""How often a process samples what no event tells it (its pools' use, the log's head):
a scrape every 15 s sees values at most this old; each sample is one cheap query."""
