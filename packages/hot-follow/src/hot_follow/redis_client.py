"""Redis clients, made in this one place: a server's, or a Redis Cluster's.

``redis_client`` makes redis-py's plain client for one server, or, with ``cluster``
(``HOT_REDIS_CLUSTER``), its cluster client, given any node of the cluster: that one
learns which node holds each slot, follows ``MOVED`` redirections, and after a
failover finds the new master. Everything HoT does in Redis (the relay's publish, the
write-through, followers, consumer groups, the live feed, readiness) goes through
one of them, the same way: the commands are the same on both.

A cluster runs a script, a transaction or a read of several keys only when all its
keys are in one slot. HoT's keys all begin with the prefix, so a prefix with a hash
tag (``{hot}``: only what is in braces is hashed) puts every key in one slot;
``one_slot_problem`` says what is wrong with a prefix that has none.

The cluster's own errors are not all ``RedisError``s (``RedisClusterException``,
raised when no node answers or a slot has no master): ``REDIS_ERRORS`` names both.
"""

from __future__ import annotations

from typing import Any

import redis
from redis.cluster import RedisCluster
from redis.exceptions import ClusterDownError, MovedError, RedisClusterException, TryAgainError

RedisClient = redis.Redis | RedisCluster
"""A client of one Redis server, or of a Redis Cluster."""

REDIS_ERRORS: tuple[type[Exception], ...] = (redis.RedisError, RedisClusterException)
"""Every error a Redis client raises when a server, or the cluster, fails it."""

NODE_CHANGED: tuple[type[Exception], ...] = (
    redis.ConnectionError,
    redis.TimeoutError,
    MovedError,  # the slot has another master now (a failover, a resharding)
    ClusterDownError,
    TryAgainError,
)
"""The errors after which a connection kept for a slot is given up for a new one."""


def redis_client(url: str, *, cluster: bool = False, **options: Any) -> RedisClient:
    """A client of the Redis at ``url``; with ``cluster``, of the Redis Cluster that
    ``url`` names a node of (it connects now, to learn the cluster's slots).
    ``options`` go to each connection (``client_name``, ``socket_timeout``...)."""
    if cluster:
        return RedisCluster.from_url(url, **options)
    return redis.Redis.from_url(url, **options)


def slot_pool(client: RedisClient, key: str) -> redis.ConnectionPool:
    """The connection pool of the server that holds ``key``: the client's own, or that
    of the cluster's master for ``key``'s slot, as the client knows it now."""
    if isinstance(client, RedisCluster):
        cluster: Any = client  # redis-py leaves the cluster's node lookups untyped
        pool: redis.ConnectionPool = cluster.get_redis_connection(
            cluster.get_node_from_key(key)
        ).connection_pool
        return pool
    return client.connection_pool


def learn_slots(client: RedisClient) -> None:
    """After a node failed or redirected a connection kept for a slot (``NODE_CHANGED``):
    a cluster client reads which node holds each slot again; a plain one has nothing to
    learn."""
    if isinstance(client, RedisCluster):
        client.nodes_manager.initialize()


def pools_of(client: RedisClient) -> list[redis.ConnectionPool]:
    """Every connection pool of the client: one, or one per cluster node it has met."""
    if isinstance(client, RedisCluster):
        cluster: Any = client  # redis-py leaves the cluster's node lookups untyped
        return [
            node.redis_connection.connection_pool
            for node in cluster.get_nodes()
            if node.redis_connection is not None
        ]
    return [client.connection_pool]


def hash_tag(key: str) -> str | None:
    """The part of ``key`` a cluster hashes when it is not the whole key: what the first
    ``{`` and the next ``}`` enclose, if that is not empty (Redis's rule)."""
    start = key.find("{")
    end = key.find("}", start + 1) if start >= 0 else -1
    return key[start + 1 : end] if end > start + 1 else None


def one_slot_problem(prefix: str) -> str | None:
    """Why the keys under ``prefix`` would not all be in one cluster slot (None: they
    would)."""
    if hash_tag(prefix) is not None:
        return None
    return (
        f"the key prefix {prefix!r} has no hash tag: on a Redis Cluster HoT needs one, in "
        f"braces (for example {'{' + prefix.strip('{}') + '}'!r}), so that every stream is "
        "in one slot; the relay writes them all in one atomic script"
    )
