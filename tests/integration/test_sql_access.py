"""``hot sql-access``: a reader's role reads ``hot_read`` and nothing else, and bad input
is refused in one line.

The tables, schemas and functions a reader must be refused are enumerated from the
catalogs at run time, so whatever HoT adds later is covered too.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
from click.testing import CliRunner
from psycopg import errors, sql

from hot.cli import main
from hot.infra.api_keys import ApiKeyStore
from hot.infra.sql_read.access import NAME_RULE
from tests.conftest import SqlReader

pytestmark = pytest.mark.postgres

SYSTEM = ("pg_catalog", "information_schema")


@contextmanager
def connected(url: str) -> Iterator[psycopg.Connection[Any]]:
    with psycopg.connect(url, autocommit=True) as conn:
        yield conn


def refused(conn: psycopg.Connection[Any], statement: sql.Composable) -> bool:
    """Whether ``statement`` fails for lack of a privilege."""
    try:
        conn.execute(statement)
    except errors.InsufficientPrivilege:
        return True
    return False


def relations(database_url: str) -> list[tuple[str, str]]:
    """Every table, view, materialized view, foreign table and sequence outside the
    system catalogs and ``hot_read``: (schema, name)."""
    with connected(database_url) as conn:
        rows = conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S') "
            "AND n.nspname <> ALL(%s) AND n.nspname <> 'hot_read' "
            "AND n.nspname NOT LIKE 'pg_toast%%' AND n.nspname NOT LIKE 'pg_temp%%'",
            (list(SYSTEM),),
        ).fetchall()
    return [(str(schema), str(name)) for schema, name in rows]


def test_a_reader_is_refused_every_table_but_hot_read_s(
    database_url: str, sql_reader: SqlReader
) -> None:
    with ApiKeyStore(database_url) as api_keys:  # its table too
        api_keys.create("admin", ["admin"])
    others = relations(database_url)
    names = {name for _, name in others}

    with connected(sql_reader.url) as conn:
        denied = [
            (schema, name)
            for schema, name in others
            if refused(conn, sql.SQL("SELECT * FROM {}.{} LIMIT 1").format(
                sql.Identifier(schema), sql.Identifier(name)
            ))
        ]  # fmt: skip
        for table in ("events", "humans", "contract"):
            conn.execute(sql.SQL("SELECT * FROM hot_read.{}").format(sql.Identifier(table)))

    # HoT's own: the log (idempotency records and email claims are events in it too),
    # snapshots, personal keys, API keys
    assert {"hot_events", "hot_snapshots", "hot_personal_keys", "hot_api_keys"} <= names
    assert denied == others


def test_a_reader_creates_nothing_and_writes_nothing(
    database_url: str, sql_reader: SqlReader
) -> None:
    with connected(database_url) as conn:
        schemas = [
            str(name)
            for (name,) in conn.execute(
                "SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg_toast%' "
                "AND nspname NOT LIKE 'pg_temp%'"
            )
        ]
    probe = f"probe_{uuid.uuid4().hex[:8]}"

    with connected(sql_reader.url) as conn:
        creates = {
            schema: refused(
                conn,
                sql.SQL("CREATE TABLE {}.{} (a int)").format(
                    sql.Identifier(schema), sql.Identifier(probe)
                ),
            )
            for schema in schemas
        }
        temporary = refused(conn, sql.SQL("CREATE TEMPORARY TABLE {} (a int)").format(
            sql.Identifier(probe)
        ))  # fmt: skip
        new_schema = refused(conn, sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(probe)))
        writes = [
            refused(conn, sql.SQL(statement))
            for statement in (
                "INSERT INTO hot_read.contract (version, position, updated_at) "
                "VALUES (9, 9, now())",
                "UPDATE hot_read.events SET name = 'X'",
                "DELETE FROM hot_read.humans",
                "TRUNCATE hot_read.events",
            )
        ]

    assert {"public", "hot_read", "pg_catalog"} <= set(creates)
    assert all(creates.values()), creates
    assert (temporary, new_schema) == (True, True)
    assert writes == [True, True, True, True]


def test_a_reader_can_call_no_function_of_hot_s_nor_read_server_files(
    database_url: str, sql_reader: SqlReader
) -> None:
    with connected(database_url) as conn:
        functions = conn.execute(
            "SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace "
            "WHERE n.nspname <> ALL(%s)",
            (list(SYSTEM),),
        ).fetchone()
        callable_functions = conn.execute(
            "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n "
            "ON n.oid = p.pronamespace WHERE n.nspname <> ALL(%s) "
            "AND has_schema_privilege(%s, n.oid, 'USAGE') "
            "AND has_function_privilege(%s, p.oid, 'EXECUTE')",
            (list(SYSTEM), sql_reader.name, sql_reader.name),
        ).fetchall()

    with connected(sql_reader.url) as conn:
        server_file = refused(conn, sql.SQL("SELECT pg_read_file('postgresql.conf')"))

    assert functions is not None
    assert functions[0] >= 1  # eventsourcing's, in public: there is one to refuse
    assert callable_functions == []
    assert server_file


def test_create_list_revoke_and_their_errors(database_url: str, sql_reader: SqlReader) -> None:
    runner = CliRunner()
    session = psycopg.connect(sql_reader.url, autocommit=True)

    listed = runner.invoke(main, ["sql-access", "list"], env=sql_reader.env)
    taken = runner.invoke(main, ["sql-access", "create", sql_reader.name], env=sql_reader.env)
    bad = [
        runner.invoke(main, ["sql-access", "create", name], env=sql_reader.env)
        for name in ("Grafana", "9lives", "pg_reader", "a-b", "x" * 64, "")
    ]
    revoked = runner.invoke(main, ["sql-access", "revoke", sql_reader.name], env=sql_reader.env)
    unknown = runner.invoke(main, ["sql-access", "revoke", sql_reader.name], env=sql_reader.env)
    after = runner.invoke(main, ["sql-access", "list"], env=sql_reader.env)

    assert listed.output == f"{sql_reader.name}\t1 session(s)\n"
    assert taken.exit_code == 1
    assert taken.output == (f"hot: a PostgreSQL role named '{sql_reader.name}' exists already\n")
    for result in bad:
        assert result.exit_code == 2
        assert NAME_RULE in result.output
        assert len(result.output.splitlines()) == 1
    assert revoked.output == f"revoked {sql_reader.name} (1 session(s) ended)\n"
    with pytest.raises(psycopg.OperationalError):
        session.execute("SELECT 1")  # its session was ended
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(sql_reader.url)  # and it logs in no more
    assert unknown.exit_code == 1
    assert unknown.output.startswith(f"hot: no SQL reader named '{sql_reader.name}' in database")
    assert after.output == ""


def test_list_shows_only_this_database_s_readers(
    database_url: str, postgres_server_url: str, sql_reader: SqlReader
) -> None:
    other = f"other_{uuid.uuid4().hex[:8]}"
    with connected(postgres_server_url) as conn:
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(other)))
    try:
        listed = CliRunner().invoke(main, ["sql-access", "list"], env=sql_reader.env)
        revoke = CliRunner().invoke(main, ["sql-access", "revoke", other], env=sql_reader.env)
    finally:
        with connected(postgres_server_url) as conn:
            conn.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(other)))

    assert listed.output == f"{sql_reader.name}\t0 session(s)\n"
    assert revoke.exit_code == 1  # a role that is not HoT's reader here is not touched
