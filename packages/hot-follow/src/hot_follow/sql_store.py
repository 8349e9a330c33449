"""The SQL of the projection stores, written once: PostgreSQL and SQLite differ only in
the placeholder (``%s``, ``?``) and in how a moment is kept (``timestamptz``, ISO text).

Three tables of the projection's own database, each keyed by the projection's name:

- ``hot_projection_positions(name, position, updated_at)``: the last event applied;
- ``hot_projection_stuck(name, position, event_name, error, since)``: the event a
  handler fails on, while it fails;
- ``hot_projection_skips(name, position, skipped_by, reason, skipped_at)``: positions
  never to be applied, with who skipped them and why.

Moving a position and recording a skip both write the position's row first, so
whichever commits second sees what the first did: a skip of a position the runner
has just passed is refused, and a runner sees a skip recorded before it moved.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any, ClassVar, Generic, TypeVar

from hot_follow.errors import ProjectionConflictError, SkipRefusedError
from hot_follow.standing import Skip, Stuck

Tx = TypeVar("Tx")

POSITIONS_TABLE = "hot_projection_positions"
STUCK_TABLE = "hot_projection_stuck"
SKIPS_TABLE = "hot_projection_skips"


@dataclass(frozen=True)
class StoreSql:
    """Every statement of a store: templates here, rendered for a database by ``written_for``."""

    create_positions: str = (
        "CREATE TABLE IF NOT EXISTS {positions} (name text PRIMARY KEY, position bigint "
        "NOT NULL, updated_at {moment} NOT NULL DEFAULT CURRENT_TIMESTAMP)"
    )
    create_stuck: str = (
        "CREATE TABLE IF NOT EXISTS {stuck} (name text PRIMARY KEY, position bigint NOT NULL, "
        "event_name text NOT NULL, error text NOT NULL, since {moment} NOT NULL)"
    )
    create_skips: str = (
        "CREATE TABLE IF NOT EXISTS {skips} (name text NOT NULL, position bigint NOT NULL, "
        "skipped_by text NOT NULL, reason text NOT NULL, skipped_at {moment} NOT NULL, "
        "PRIMARY KEY (name, position))"
    )
    add_position: str = (
        "INSERT INTO {positions} (name, position) VALUES (%s, 0) ON CONFLICT (name) DO NOTHING"
    )
    position: str = "SELECT position FROM {positions} WHERE name = %s"
    advance: str = (
        "UPDATE {positions} SET position = %s, updated_at = CURRENT_TIMESTAMP "
        "WHERE name = %s AND position = %s RETURNING position"
    )
    hold_if_before: str = (  # takes the position's row, if the position is before %s
        "UPDATE {positions} SET updated_at = updated_at "
        "WHERE name = %s AND position < %s RETURNING position"
    )
    stuck: str = "SELECT position, event_name, error, since FROM {stuck} WHERE name = %s"
    record_stuck: str = (  # ``since`` stays that of the first failure at a position
        "INSERT INTO {stuck} (name, position, event_name, error, since) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET "
        "since = CASE WHEN {stuck}.position = excluded.position "
        "THEN {stuck}.since ELSE excluded.since END, "
        "position = excluded.position, event_name = excluded.event_name, error = excluded.error"
    )
    clear_stuck: str = "DELETE FROM {stuck} WHERE name = %s AND position <= %s"
    skips: str = (
        "SELECT position, skipped_by, reason, skipped_at FROM {skips} "
        "WHERE name = %s ORDER BY position"
    )
    skipped_after: str = "SELECT position FROM {skips} WHERE name = %s AND position > %s"
    add_skip: str = (
        "INSERT INTO {skips} (name, position, skipped_by, reason, skipped_at) "
        "VALUES (%s, %s, %s, %s, %s) ON CONFLICT (name, position) DO NOTHING RETURNING position"
    )

    def written_for(self, placeholder: str, moment: str) -> StoreSql:
        """The statements with ``placeholder`` for parameters and ``moment`` as time type."""
        tables = {"positions": POSITIONS_TABLE, "stuck": STUCK_TABLE, "skips": SKIPS_TABLE}
        rendered = {
            f.name: getattr(self, f.name).format(moment=moment, **tables).replace("%s", placeholder)
            for f in fields(self)
        }
        return replace(self, **rendered)


class SqlProjectionStore(Generic[Tx]):
    """What both stores do the same way; a subclass opens transactions, names its ``sql``
    and says how it keeps a moment (``_kept``, ``_moment``)."""

    sql: ClassVar[StoreSql]

    def prepare(self, tx: Tx, name: str) -> None:
        """Create the tables and the projection's row (at position 0) if missing."""
        for statement in (self.sql.create_positions, self.sql.create_stuck, self.sql.create_skips):
            _rows(tx, statement, fetch=False)
        _rows(tx, self.sql.add_position, name, fetch=False)

    def position(self, tx: Tx, name: str) -> int:
        return self._current(tx, name) or 0

    def advance(self, tx: Tx, name: str, expected: int, position: int) -> None:
        """Move ``name`` from ``expected`` to ``position``, or raise ``ProjectionConflictError``."""
        if not _rows(tx, self.sql.advance, position, name, expected):
            raise ProjectionConflictError(name, expected, self._current(tx, name))

    def stuck(self, tx: Tx, name: str) -> Stuck | None:
        for position, event_name, error, since in _rows(tx, self.sql.stuck, name):
            return Stuck(int(position), event_name, error, self._moment(since))
        return None

    def record_stuck(self, tx: Tx, name: str, stuck: Stuck) -> None:
        """Record that ``name`` is stuck at ``stuck.position`` (instead of where it was)."""
        found = (stuck.position, stuck.event_name, stuck.error, self._kept(stuck.since))
        _rows(tx, self.sql.record_stuck, name, *found, fetch=False)

    def clear_stuck(self, tx: Tx, name: str, upto: int) -> None:
        """Forget where ``name`` was stuck, if it was at ``upto`` or before."""
        _rows(tx, self.sql.clear_stuck, name, upto, fetch=False)

    def skips(self, tx: Tx, name: str) -> list[Skip]:
        return [
            Skip(int(position), by, reason, self._moment(at))
            for position, by, reason, at in _rows(tx, self.sql.skips, name)
        ]

    def skipped_after(self, tx: Tx, name: str, after: int) -> frozenset[int]:
        """The positions after ``after`` that ``name`` must not apply."""
        return frozenset(int(p) for (p,) in _rows(tx, self.sql.skipped_after, name, after))

    def record_skip(self, tx: Tx, name: str, skip: Skip) -> None:
        """Record ``skip``, or raise ``SkipRefusedError``: its position is passed, or skipped."""
        if not _rows(tx, self.sql.hold_if_before, name, skip.position):
            current = self._current(tx, name)
            raise SkipRefusedError(
                f"Position {skip.position} of {name!r} cannot be skipped: the projection is "
                f"at position {current}, past it; only a position after {current} can be."
            )
        recorded = (skip.position, skip.skipped_by, skip.reason, self._kept(skip.skipped_at))
        if not _rows(tx, self.sql.add_skip, name, *recorded):
            raise SkipRefusedError(f"Position {skip.position} of {name!r} is already skipped.")

    def sync(self, tx: Tx) -> None:
        """Run every statement sent so far, raising the first error among them (a database
        that queues statements overrides this)."""

    def _current(self, tx: Tx, name: str) -> int | None:
        found = _rows(tx, self.sql.position, name)
        return int(found[0][0]) if found else None

    def _kept(self, moment: datetime) -> Any:
        """A moment as the database keeps it."""
        return moment

    def _moment(self, kept: Any) -> datetime:
        """A moment as the database gave it back."""
        assert isinstance(kept, datetime)
        return kept


def _rows(tx: Any, statement: str, *parameters: Any, fetch: bool = True) -> list[Any]:
    """Run ``statement``; its rows if ``fetch`` (PostgreSQL's pipeline waits only then)."""
    cursor = tx.execute(statement, parameters)
    return list(cursor.fetchall()) if fetch else []
