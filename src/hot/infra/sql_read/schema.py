"""The SQL read contract's tables: ``hot_read``, version 1, created where HoT's tables are.

The contract is what a reader with SQL may rely on: the schema's name, its tables and
their columns. Changing a column makes a new schema, ``hot_read_v2``, written beside
this one, which is kept until it is dropped on purpose (``docs/sql.md``). Adding an
index is no change to the contract.

``hot_read.contract`` holds one row: the contract's version, and the log position up to
which every public event is in ``hot_read`` (the projector moves it in the transaction
that writes the events, so a reader's snapshot is always consistent with it).
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import tuple_row

SCHEMA = "hot_read"
CONTRACT_VERSION = 1
TABLES = ("contract", "events", "humans")  # every table of the contract, in ``SCHEMA``

_DDL = f"""
CREATE SCHEMA IF NOT EXISTS {SCHEMA};
COMMENT ON SCHEMA {SCHEMA} IS
  'HoT''s SQL read contract, version {CONTRACT_VERSION}: the public events, personal fields '
  'masked, and each human''s current state. A column change makes {SCHEMA}_v2. See docs/sql.md.';
CREATE TABLE IF NOT EXISTS {SCHEMA}.contract (
  version integer NOT NULL,
  position bigint NOT NULL,
  updated_at timestamptz NOT NULL,
  one_row boolean PRIMARY KEY DEFAULT true CHECK (one_row)
);
INSERT INTO {SCHEMA}.contract (version, position, updated_at)
  VALUES ({CONTRACT_VERSION}, 0, now()) ON CONFLICT DO NOTHING;
CREATE TABLE IF NOT EXISTS {SCHEMA}.events (
  position bigint PRIMARY KEY,
  id uuid NOT NULL,
  name text NOT NULL,
  version integer NOT NULL,
  subject uuid NOT NULL,
  sequence integer NOT NULL,
  time timestamptz NOT NULL,
  payload jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS events_name_position ON {SCHEMA}.events (name, position);
CREATE UNIQUE INDEX IF NOT EXISTS events_subject_sequence ON {SCHEMA}.events (subject, sequence);
CREATE INDEX IF NOT EXISTS events_time ON {SCHEMA}.events (time);
CREATE TABLE IF NOT EXISTS {SCHEMA}.humans (
  id uuid PRIMARY KEY,
  kind text NOT NULL,
  status text NOT NULL,
  memberships jsonb NOT NULL,
  attended_count integer NOT NULL,
  last_attended_on date,
  forgotten boolean NOT NULL,
  version integer NOT NULL,
  registered_at timestamptz NOT NULL,
  modified_at timestamptz NOT NULL,
  position bigint NOT NULL
);
"""


def create_read_schema(conn: psycopg.Connection[Any]) -> None:
    """Create the contract's schema and tables if they do not exist (under HoT's schema lock)."""
    with conn.transaction():
        conn.execute(_DDL)


def read_position(conn: psycopg.Connection[Any]) -> int:
    """The log position up to which ``hot_read`` holds every public event (on any
    connection, whatever its row factory)."""
    with conn.cursor(row_factory=tuple_row) as cursor:
        row = cursor.execute(f"SELECT position FROM {SCHEMA}.contract").fetchone()
    return 0 if row is None else int(row[0])
