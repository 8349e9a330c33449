"""The login roles of SQL readers: each may read ``hot_read`` and nothing else.

A reader is a PostgreSQL ``LOGIN`` role granted ``USAGE`` on the schema and ``SELECT``
on its tables (and on tables added to it later), nothing more. Roles are the cluster's,
not a database's: a reader is tagged by its comment (``COMMENT ON ROLE``), which names
this database, so ``readers`` lists only HoT's readers of this database and ``revoke``
touches no other role.

What keeps a reader from the rest, beyond the grants it lacks: HoT's tables grant
nothing to ``PUBLIC``, and creating a reader takes from ``PUBLIC`` what PostgreSQL
gives it by default (use of the ``public`` schema, which holds HoT's tables and the
functions ``eventsourcing`` makes, and temporary tables in the database), giving it back
to the role HoT runs as. The password is hashed by libpq before it is sent (the server
and its logs never see it) and is shown once, in the URL ``create_reader`` returns.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
from psycopg import sql

from hot.infra.sql_read.schema import SCHEMA

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
NAME_RULE = "lower-case letters, digits and _, starting with a letter, up to 63 (not pg_...)"


class SqlAccessError(Exception):
    """A reader cannot be created or revoked as asked."""


class BadReaderNameError(SqlAccessError, ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(f"{name!r} is not a reader's name: {NAME_RULE}")


class ReaderExistsError(SqlAccessError):
    def __init__(self, name: str) -> None:
        super().__init__(f"a PostgreSQL role named {name!r} exists already")


class ReaderNotFoundError(SqlAccessError):
    def __init__(self, name: str, database: str) -> None:
        super().__init__(f"no SQL reader named {name!r} in database {database!r}")


@dataclass(frozen=True)
class Reader:
    """A SQL reader of this database, and how many sessions it has open now."""

    name: str
    sessions: int


def checked_name(name: str) -> str:
    """``name`` if it may name a reader's role, else ``BadReaderNameError``."""
    if not NAME_PATTERN.fullmatch(name) or name.startswith("pg_"):
        raise BadReaderNameError(name)
    return name


def create_reader(database_url: str, name: str) -> str:
    """Create the reader ``name``; the ``postgresql://`` URL it connects with (its only copy
    of the password)."""
    checked_name(name)
    password = secrets.token_urlsafe(24)
    role = sql.Identifier(name)
    with psycopg.connect(database_url, autocommit=True) as conn, conn.transaction():
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone():
            raise ReaderExistsError(name)
        database = _database(conn)
        hashed = conn.pgconn.encrypt_password(password.encode(), name.encode()).decode()
        conn.execute(
            sql.SQL(
                "CREATE ROLE {} LOGIN PASSWORD {} NOSUPERUSER NOCREATEDB NOCREATEROLE "
                "NOREPLICATION NOBYPASSRLS NOINHERIT"
            ).format(role, sql.Literal(hashed))
        )
        conn.execute(sql.SQL("COMMENT ON ROLE {} IS {}").format(role, sql.Literal(_tag(database))))
        _take_public_defaults(conn, database)
        schema = sql.Identifier(SCHEMA)
        for statement in (
            "GRANT CONNECT ON DATABASE {database} TO {role}",
            "GRANT USAGE ON SCHEMA {schema} TO {role}",
            "GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
            "ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}",
        ):
            conn.execute(
                sql.SQL(statement).format(
                    database=sql.Identifier(database), schema=schema, role=role
                )
            )
    return reader_url(database_url, name, password)


def readers(database_url: str) -> list[Reader]:
    """HoT's SQL readers of this database, by name."""
    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT r.rolname, (SELECT count(*) FROM pg_stat_activity a WHERE a.usename = "
            "r.rolname) FROM pg_roles r WHERE shobj_description(r.oid, 'pg_authid') = %s "
            "ORDER BY r.rolname",
            (_tag(_database(conn)),),
        ).fetchall()
    return [Reader(str(name), int(sessions)) for name, sessions in rows]


def revoke_reader(database_url: str, name: str) -> int:
    """Drop the reader ``name``, ending its sessions first; how many were ended."""
    role = sql.Identifier(name)
    with psycopg.connect(database_url, autocommit=True) as conn:
        database = _database(conn)
        if name not in {reader.name for reader in readers(database_url)}:
            raise ReaderNotFoundError(name, database)
        conn.execute(sql.SQL("ALTER ROLE {} NOLOGIN").format(role))  # no new session from now
        ended = conn.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE usename = %s",
            (name,),
        ).fetchone()
        with conn.transaction():
            conn.execute(sql.SQL("DROP OWNED BY {}").format(role))  # its grants here
            conn.execute(sql.SQL("DROP ROLE {}").format(role))
    return 0 if ended is None else int(ended[0])


def reader_url(database_url: str, name: str, password: str) -> str:
    """``database_url`` with the reader's name and password in place of HoT's."""
    parts = urlsplit(database_url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    port = f":{parts.port}" if parts.port else ""
    netloc = f"{quote(name, safe='')}:{quote(password, safe='')}@{host}{port}"
    return parts._replace(netloc=netloc).geturl()


def _take_public_defaults(conn: psycopg.Connection[Any], database: str) -> None:
    """Take from ``PUBLIC`` (every role, so every reader) what PostgreSQL grants it by
    default in a database, giving it to the role HoT runs as: the ``public`` schema
    (HoT's tables, ``eventsourcing``'s functions) and temporary tables."""
    db = sql.Identifier(database)
    for statement in (
        sql.SQL("REVOKE ALL ON SCHEMA public FROM PUBLIC"),
        sql.SQL("GRANT USAGE, CREATE ON SCHEMA public TO CURRENT_USER"),
        sql.SQL("REVOKE TEMPORARY ON DATABASE {} FROM PUBLIC").format(db),
        sql.SQL("GRANT TEMPORARY ON DATABASE {} TO CURRENT_USER").format(db),
    ):
        conn.execute(statement)


def _database(conn: psycopg.Connection[Any]) -> str:
    row = conn.execute("SELECT current_database()").fetchone()
    assert row is not None
    return str(row[0])


def _tag(database: str) -> str:
    """The comment that marks a role as HoT's reader of ``database``."""
    return f"HoT SQL reader of {SCHEMA} in database {database}"
