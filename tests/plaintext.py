"""Search a whole PostgreSQL database and a whole Redis database for plaintext.

The tests of forgetting use them: after a human is forgotten, none of their personal
values may be found anywhere, in any table or key, whoever wrote it.
"""

from __future__ import annotations

from typing import Any

import psycopg
import redis
from psycopg import sql

_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def plaintext_anywhere(database_url: str, *needles: str) -> list[str]:
    """Every table.column of the database whose value contains one of ``needles``
    (case-insensitively): every column of every table of every schema, read as text
    (json, arrays and composite values included), and bytea columns as raw bytes too."""
    wanted = [n.encode().lower() for n in needles]
    found: list[str] = []
    with psycopg.connect(database_url) as conn:
        columns = conn.execute(
            "SELECT c.table_schema, c.table_name, c.column_name, c.data_type "
            "FROM information_schema.columns c JOIN information_schema.tables t "
            "USING (table_schema, table_name) "
            "WHERE t.table_type = 'BASE TABLE' AND c.table_schema <> ALL(%s)",
            (list(_SYSTEM_SCHEMAS),),
        ).fetchall()
        for schema, table, column, data_type in columns:
            value = sql.Identifier(column)
            read = value if data_type == "bytea" else sql.SQL("{}::text").format(value)
            query = sql.SQL("SELECT {r} FROM {s}.{t} WHERE {c} IS NOT NULL").format(
                r=read, s=sql.Identifier(schema), t=sql.Identifier(table), c=value
            )
            for (stored,) in conn.execute(query):
                raw = bytes(stored) if isinstance(stored, bytes | memoryview) else stored.encode()
                if any(n in raw.lower() for n in wanted):
                    found.append(f"{schema}.{table}.{column}")
                    break
    return found


def plaintext_in_redis(client: redis.Redis, *needles: str) -> list[bytes]:
    """Every key of the Redis database whose name or content contains one of ``needles``
    (case-insensitively), whatever its type (string, hash, list, set, sorted set, stream)."""
    wanted = [n.encode().lower() for n in needles]
    found = []
    for key in client.scan_iter(count=1000):
        if any(n in _content(client, key).lower() for n in wanted):
            found.append(key)
    return found


def _content(client: redis.Redis, key: bytes) -> bytes:
    kind: Any = client.type(key)
    parts: list[bytes] = [key]
    if kind == b"string":
        parts.append(client.get(key) or b"")
    elif kind == b"hash":
        for field, value in client.hgetall(key).items():
            parts += [field, value]
    elif kind == b"list":
        parts += client.lrange(key, 0, -1)
    elif kind == b"set":
        parts += client.smembers(key)
    elif kind == b"zset":
        parts += [member for member, _ in client.zrange(key, 0, -1, withscores=True)]
    elif kind == b"stream":
        for entry_id, fields in client.xrange(key):
            parts.append(entry_id)
            for field, value in fields.items():
                parts += [field, value]
    return b"\0".join(parts)
