"""The connections a server sees: PostgreSQL's ``pg_stat_activity`` of a test's own
database, by ``application_name``, and Redis's ``CLIENT LIST``, by client name."""

from __future__ import annotations

import psycopg
import redis

from tests.waiting import wait_until


def connections(database_url: str, application_name: str | None = None) -> int:
    """How many other connections to this database there are (of that name, if given)."""
    return len(_others(database_url, application_name, "pid"))


def terminate(database_url: str, application_name: str | None = None) -> int:
    """Kill the other connections to this database (of that name, if given); how many."""
    return len(_others(database_url, application_name, "pg_terminate_backend(pid)"))


def _others(database_url: str, application_name: str | None, select: str) -> list[object]:
    """``select`` of every other connection to this database (of that name, if given)."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            f"SELECT {select} FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND (%s::text IS NULL OR application_name = %s::text)",
            (application_name, application_name),
        ).fetchall()
    return [row[0] for row in rows]


def redis_clients(redis_url: str, name: str) -> int:
    """How many connections to the Redis at ``redis_url`` have the client name ``name``."""
    with redis.Redis.from_url(redis_url) as client:
        return sum(c.get("name") == name for c in client.client_list())


def wait_closed(database_url: str, application_name: str | None = None) -> None:
    """Wait until no other connection to this database (of that name, if given) is left:
    a closed connection's backend leaves ``pg_stat_activity`` a moment after."""
    what = application_name or "every other"
    wait_until(lambda: connections(database_url, application_name) == 0, 5, f"{what} closed")
