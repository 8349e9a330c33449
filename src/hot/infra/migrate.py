"""``hot migrate``: seal personal data stored before it was encrypted, in place.

Events and snapshots written in clear are read (the mapper passes clear state
through), sealed under their human's key (made if missing) and written back, in
log order, a batch per transaction. A row already sealed is skipped, so the
migration can stop at any point and be run again. Email claims are re-keyed under
the server secret's HMAC, and claims under the old, guessable ids are deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid5

from eventsourcing.persistence import StoredEvent

from hot.application import CATALOG, HumansApplication
from hot.application.personal import BLOB
from hot.domain import EmailClaim, Human

LEGACY_EMAIL_NAMESPACE = UUID("6f1c7d0e-2b55-4a53-9d35-8f3e1c0b7a21")
BATCH = 500
Progress = Callable[[int], None]


@dataclass
class MigrationReport:
    events_sealed: int = 0
    snapshots_sealed: int = 0
    claims_rekeyed: int = 0


def migrate(app: HumansApplication, progress: Progress | None = None) -> MigrationReport:
    """Seal every personal field still in clear; ``progress`` hears rows done."""
    report = MigrationReport()
    personal_topics = [t.name for t in CATALOG if t.personal_fields]
    humans: set[UUID] = set()
    for table, rows in (
        ("events", _rows(app, "events", personal_topics)),
        ("snapshots", _rows(app, "snapshots", [Human.TOPIC])),
    ):
        for batch in _batches(rows):
            sealed = [(_sealed(app, row), row) for row in batch]
            _write(
                app,
                table,
                [(s.state, r["originator_id"], r["originator_version"]) for s, r in sealed],
            )
            humans.update(r["originator_id"] for r in batch)
            if table == "events":
                report.events_sealed += len(batch)
            else:
                report.snapshots_sealed += len(batch)
            if progress:
                progress(len(batch))
    report.claims_rekeyed = _rekey_claims(app, humans)
    return report


def pending(app: HumansApplication) -> int:
    """How many rows are still in clear."""
    personal_topics = [t.name for t in CATALOG if t.personal_fields]
    return sum(1 for _ in _rows(app, "events", personal_topics)) + sum(
        1 for _ in _rows(app, "snapshots", [Human.TOPIC])
    )


def _rows(app: HumansApplication, table: str, topics: list[str]) -> Iterator[dict[str, Any]]:
    name = f"hot_{table}"
    with app.recorder.datastore.get_connection() as conn, conn.cursor() as curs:  # type: ignore[attr-defined]
        curs.execute(
            f"SELECT originator_id, originator_version, topic, state FROM {name} "
            "WHERE topic = ANY(%s) AND position(%s in convert_from(state, 'UTF8')) = 0 "
            "ORDER BY originator_id, originator_version",
            (topics, f'"{BLOB}"'),
        )
        yield from curs.fetchall()


def _batches(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


def _sealed(app: HumansApplication, row: dict[str, Any]) -> StoredEvent:
    stored = StoredEvent(
        row["originator_id"], row["originator_version"], row["topic"], bytes(row["state"])
    )
    event = app.mapper.to_domain_event(stored)
    app.personal_keys.key_for_writing(row["originator_id"], create=True)
    return app.mapper.to_stored_event(event)


def _write(app: HumansApplication, table: str, rows: list[tuple[bytes, UUID, int]]) -> None:
    with app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
        curs.executemany(
            f"UPDATE hot_{table} SET state = %s "
            "WHERE originator_id = %s AND originator_version = %s",
            rows,
        )


def _rekey_claims(app: HumansApplication, humans: set[UUID]) -> int:
    """Claims under the server secret for each human's email; the legacy ids deleted."""
    rekeyed = 0
    for human_id in humans:
        human = app.load(human_id)
        if not isinstance(human, Human) or human.name == "(forgotten)":
            continue
        legacy = uuid5(LEGACY_EMAIL_NAMESPACE, human.email.strip().casefold())
        claim_id = EmailClaim.id_for(human.email, app.claim_secret)
        if not app.recorder.select_events(claim_id, limit=1):
            app.save(EmailClaim.claim(human.email, human_id, app.claim_secret))
            rekeyed += 1
        with app.recorder.datastore.transaction(commit=True) as curs:  # type: ignore[attr-defined]
            curs.execute("DELETE FROM hot_events WHERE originator_id = %s", (legacy,))
    return rekeyed
