"""``BatchCommitter``: commits a projection's batches, and finds the event a handler fails on.

A batch is handled in one transaction that also moves the projection's position
past it, skipped positions left out. If a handler fails (with an error reconnecting
cannot cure), the batch is committed again one event per transaction, so that every
event before the failing one is kept, exactly once; the projection is then stuck at
the failing event's position, recorded in the store in a transaction of its own,
until a batch commits past it.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Generic, TypeVar

from hot_follow.errors import (
    HandlerFailedError,
    ProjectionConflictError,
    RebuildFailedError,
    one_line,
)
from hot_follow.events import RecordedEvent
from hot_follow.projection import Projection
from hot_follow.standing import Stuck
from hot_follow.stores import ProjectionStore

log = logging.getLogger(__name__)

Tx = TypeVar("Tx")


class BatchCommitter(Generic[Tx]):
    """Applies batches of ``projection``'s events in transactions of ``store``."""

    def __init__(self, projection: Projection[Tx], store: ProjectionStore[Tx]) -> None:
        self.projection = projection
        self.store = store
        self.name = projection.name
        self.stuck: Stuck | None = None  # where the projection is known to be stuck
        # Errors that are not a handler's: another runner moved first, or reconnect.
        self._not_handlers: tuple[type[Exception], ...] = (
            ProjectionConflictError,
            *store.retryable,
        )

    def prepare(self, tx: Tx) -> None:
        """Create the store's and the projection's tables if missing."""
        self.store.prepare(tx, self.name)
        self.projection.setup(tx)

    def start(self) -> int:
        """The stored position (preparing the tables), learning where it is stuck, if it is."""
        with self.store.transaction() as tx:
            self.prepare(tx)
            self.stuck = self.store.stuck(tx, self.name)
            return self.store.position(tx, self.name)

    def commit(self, batch: list[RecordedEvent], position: int) -> None:
        """Commit ``batch`` after ``position``: in one transaction, or if a handler fails,
        one event per transaction up to the failing one (``HandlerFailedError``)."""
        try:
            self._commit(batch, position)
        except self._not_handlers:
            raise
        except Exception:  # a handler failed on some event of the batch: find which
            self._commit_each(batch, position)

    def rebuild_page(self, page: list[RecordedEvent], skipped: frozenset[int], tx: Tx) -> None:
        """Handle a page of a rebuild in ``tx``, or raise ``RebuildFailedError`` naming it."""
        try:
            self.projection.apply(self._not_skipped(page, skipped), tx)
            self.store.sync(tx)  # a failing statement fails here, with its own page
        except self._not_handlers:
            raise
        except Exception as error:
            first, last = page[0].position, page[-1].position
            raise RebuildFailedError(self.name, first, last, one_line(error)) from error

    def _commit_each(self, batch: list[RecordedEvent], position: int) -> None:
        for event in batch:
            try:
                self._commit([event], position)
            except self._not_handlers:
                raise
            except Exception as error:
                failure = HandlerFailedError(self.name, event.position, event.name, one_line(error))
                self._record_stuck(failure)
                raise failure from error
            position = event.position

    def _commit(self, events: list[RecordedEvent], position: int) -> None:
        last = events[-1].position
        with self.store.transaction() as tx:
            # The position first: its row is then this transaction's, so a skip is
            # either recorded before and read here, or refused (see ``sql_store``).
            self.store.advance(tx, self.name, position, last)
            skipped = self.store.skipped_after(tx, self.name, position)
            self.projection.apply(self._not_skipped(events, skipped), tx)
            if self.stuck is not None:
                self.store.clear_stuck(tx, self.name, last)
        if self.stuck is not None and last >= self.stuck.position:
            log.warning("projection %s: past position %d, no longer stuck", self.name, last)
            self.stuck = None

    def _not_skipped(
        self, events: list[RecordedEvent], skipped: frozenset[int]
    ) -> list[RecordedEvent]:
        if not skipped:
            return events
        passed = [e.position for e in events if e.position in skipped]
        if passed:
            log.warning("projection %s: not applying skipped position(s) %s", self.name, passed)
        return [e for e in events if e.position not in skipped]

    def _record_stuck(self, failure: HandlerFailedError) -> None:
        stuck = Stuck(failure.position, failure.event_name, failure.error, datetime.now(UTC))
        with self.store.transaction() as tx:
            self.store.record_stuck(tx, self.name, stuck)
        self.stuck = stuck
