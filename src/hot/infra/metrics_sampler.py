"""``Sampler``: what no event tells a process, sampled into its metrics every few seconds.

The use of its PostgreSQL and Redis pools, and the log's head (one indexed query). A
thread of its own, so that a scrape costs no query and every worker process's values
are in its files when another worker answers the scrape.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from psycopg_pool import ConnectionPool

from hot.infra.metrics import HotMetrics
from hot.tuning import METRICS_SAMPLE_SECONDS
from hot_follow.redis_client import RedisClient, pools_of

log = logging.getLogger(__name__)


class Sampler:
    """Samples ``head`` and the pools it is given to watch into ``metrics``, every
    ``interval`` seconds from ``start()`` to ``close()``."""

    def __init__(
        self,
        metrics: HotMetrics,
        head: Callable[[], int],
        interval: float = METRICS_SAMPLE_SECONDS,
    ) -> None:
        self.metrics = metrics
        self.head = head
        self.interval = interval
        self._postgres: dict[str, ConnectionPool[Any]] = {}
        self._redis: dict[str, RedisClient] = {}
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def watch_postgres(self, name: str, pool: ConnectionPool[Any]) -> None:
        self._postgres[name] = pool

    def watch_redis(self, name: str, client: RedisClient) -> None:
        """Sample the use of ``client``'s pool (a cluster client's: all its nodes')."""
        self._redis[name] = client

    def start(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="hot-metrics", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(5)

    def sample(self) -> None:
        """Take one sample now."""
        for name, pool in list(self._postgres.items()):
            stats = pool.get_stats()
            in_use = stats.get("pool_size", 0) - stats.get("pool_available", 0)
            self.metrics.postgres_pool.labels(name, "in_use").set(in_use)
            self.metrics.postgres_pool.labels(name, "idle").set(stats.get("pool_available", 0))
            self.metrics.postgres_pool.labels(name, "waiting").set(stats.get("requests_waiting", 0))
        for name, client in list(self._redis.items()):
            # redis-py keeps no count but these lists (no public accessor for them).
            pools = pools_of(client)
            in_use = sum(len(getattr(pool, "_in_use_connections", ())) for pool in pools)
            idle = sum(len(getattr(pool, "_available_connections", ())) for pool in pools)
            self.metrics.redis_pool.labels(name, "in_use").set(in_use)
            self.metrics.redis_pool.labels(name, "idle").set(idle)
        self.metrics.log_head.set(self.head())

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self.sample()
            except Exception as error:  # a sample missed is no reason to stop sampling
                log.debug("metrics: sample failed: %s: %s", type(error).__name__, error)
            self._stopping.wait(self.interval)
