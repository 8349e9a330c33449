"""The idempotency records' table: a row per key used, written with the command's events.

``HotRecorder`` creates it with the events table and writes its rows in the transaction
of the events they answer for, so a key's row exists exactly when its request committed,
and a second commit of the same key fails on the row's primary key (``IntegrityError``).

Records were once events of the log (topic ``hot:IDEMPOTENCY_RECORDED``). The table is
made, once, from those: when it does not exist yet, it is created and filled from them
in the same transaction, under HoT's schema lock (``hot.infra.database``). The old rows
stay in the events table; nothing reads them any more.
"""

from __future__ import annotations

from psycopg.sql import SQL, Composable, Composed, Identifier, Literal

RECORDS_TABLE = "hot_idempotency_records"
LEGACY_TOPIC = "hot:IDEMPOTENCY_RECORDED"  # how records were stored in the log before


def _table(schema: str) -> Composed:
    return SQL("{0}.{1}").format(Identifier(schema), Identifier(RECORDS_TABLE))


def create_records_statement(schema: str, events_table: Composable) -> Composed:
    """Create the table, and copy into it the records the log holds, if it is not there."""
    return SQL(
        "DO $$ BEGIN IF to_regclass({name}) IS NULL THEN "
        "CREATE TABLE {table} ("
        "id uuid PRIMARY KEY, "
        "fingerprint text NOT NULL, "
        "human_id uuid NOT NULL, "
        "human_version integer NOT NULL, "
        "recorded_at timestamptz NOT NULL DEFAULT now()); "
        "INSERT INTO {table} (id, fingerprint, human_id, human_version, recorded_at) "
        "SELECT originator_id, s->>'fingerprint', (s->'human_id'->>'_data_')::uuid, "
        "(s->>'human_version')::integer, (s->'timestamp'->>'_data_')::timestamptz "
        "FROM (SELECT originator_id, convert_from(state, 'UTF8')::jsonb AS s "
        "FROM {events} WHERE topic = {topic}) AS old ON CONFLICT DO NOTHING; "
        "END IF; END $$"
    ).format(
        name=Literal(f"{schema}.{RECORDS_TABLE}"),
        table=_table(schema),
        events=events_table,
        topic=Literal(LEGACY_TOPIC),
    )


def insert_records_statement(schema: str) -> Composed:
    """The statement ``HotRecorder`` runs in the transaction of the events: the records as
    four arrays (ids, fingerprints, human ids, human versions), sent in binary."""
    return SQL(
        "INSERT INTO {0} (id, fingerprint, human_id, human_version) "
        "SELECT * FROM unnest(%b::uuid[], %b::text[], %b::uuid[], %b::integer[])"
    ).format(_table(schema))


def select_records_statement(schema: str) -> Composed:
    """The records of the ids ``%s`` (an array)."""
    return SQL(
        "SELECT id, fingerprint, human_id, human_version FROM {0} WHERE id = ANY(%s)"
    ).format(_table(schema))
