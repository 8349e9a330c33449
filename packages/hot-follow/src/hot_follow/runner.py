"""``ProjectionRunner``: keeps a projection current, exactly once; rebuilds it in one call.

Each batch of events is handled in one transaction of the projection's store, which
also moves the projection's position to the batch's last event. A crash anywhere
leaves either the whole batch and its position, or neither, so a restart goes on
from the position stored and no effect is lost or repeated. After any failure the
runner reads the stored position again and follows from there.

When a handler fails (with an error reconnecting cannot cure), the runner handles
that batch again one event per transaction, keeping every event before the one that
fails: it is stuck at that event's position. It records where and why in the store
(``status()``), logs it at ERROR with the way to skip it, and tries again after a
backoff, until the handler stops failing or the position is skipped on purpose
(``skip()``, recorded with who and why). No run or rebuild applies a skipped position.

A runner made ``personal`` hands its projection names, emails and reasons: it
accepts only a projection that forgets (defines ``forget``), which it calls for each
``HUMAN_FORGOTTEN`` in that event's batch transaction, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from hot_follow.backoff import Backoff
from hot_follow.committer import BatchCommitter
from hot_follow.errors import HandlerFailedError, ProjectionConflictError, SourceUnavailableError
from hot_follow.feed import Feed
from hot_follow.follower import Follower
from hot_follow.projection import Projection
from hot_follow.standing import ProjectionStatus, Skip, read_status, skip_position
from hot_follow.stopping import StopFlag
from hot_follow.stores import ProjectionStore
from hot_follow.tuning import FOLLOWER_PAGE

log = logging.getLogger(__name__)

Tx = TypeVar("Tx")
ProgressCallback = Callable[[int, int], None]  # (position reached, events handled so far)

STUCK_RETRY = (1.0, 30.0)  # seconds before trying a failing event again: doubling, capped
SKIP_CALL = "ProjectionRunner.skip({position}, by=..., reason=...)"


class ProjectionMeter:
    """Told where a runner stands and of each handler failure (its metrics: see
    ``hot_attendance.metrics``); this one keeps nothing."""

    def reached(self, position: int) -> None:
        """The projection's state includes every event up to ``position``."""

    def handler_failed(self, position: int) -> None:
        """A handler failed on the event at ``position``: stuck there until it passes."""


class ProjectionRunner(Generic[Tx]):
    """Runs ``projection`` on the events of ``feed``, keeping its state in ``store``.

    ``skip_command`` tells an operator how to skip a position (``{position}`` is filled
    in); ``stuck_retry`` is the first and the longest wait before a failing event is
    tried again. ``meter`` is told its progress and failures (metrics).
    """

    def __init__(
        self,
        projection: Projection[Tx],
        store: ProjectionStore[Tx],
        feed: Feed,
        *,
        page_size: int = FOLLOWER_PAGE,
        personal: bool = False,
        skip_command: str = SKIP_CALL,
        stuck_retry: tuple[float, float] = STUCK_RETRY,
        meter: ProjectionMeter | None = None,
    ) -> None:
        if not projection.names:
            raise TypeError(f"{type(projection).__name__} handles no event: add @handles methods.")
        if personal and not projection.forgets:
            raise TypeError(
                f"{type(projection).__name__} reads personal data (personal=True) but cannot "
                "forget a human: define forget(self, human_id, tx), which removes the "
                "human's personal data from its tables when HoT forgets them."
            )
        self.projection = projection
        self.store = store
        self.feed = feed
        self.page_size = page_size
        self.personal = personal  # whether handlers see personal fields, or them masked
        self.skip_command = skip_command
        self._committer = BatchCommitter(projection, store)
        self._stuck_retry = Backoff(*stuck_retry)
        self._stopped = StopFlag()
        self._follower: Follower | None = None
        self.meter = meter or ProjectionMeter()

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        """The position of the last event the projection's state includes (creating it if new)."""
        with self.store.transaction() as tx:
            self._committer.prepare(tx)
            return self.store.position(tx, self.name)

    def status(self) -> ProjectionStatus:
        """The position, where the projection is stuck (or None), and the skips recorded."""
        return read_status(self.store, self.name)

    def skip(self, position: int, *, by: str, reason: str) -> Skip:
        """Record that the event at ``position`` is never to be applied, by whom and why.

        Refused (``SkipRefusedError``) for a position the projection has passed or
        skipped already, or without ``by`` or ``reason``. A running runner goes past
        it at its next attempt.
        """
        return skip_position(self.store, self.name, position, by=by, reason=reason)

    def run(self, *, on_batch: ProgressCallback | None = None) -> None:
        """Catch up from the stored position, then follow, until ``stop()``."""
        backoff = Backoff()
        retryable: tuple[type[Exception], ...] = (*self.store.retryable, SourceUnavailableError)
        while not self._stopped.is_set():
            try:
                self._follow(on_batch)
            except ProjectionConflictError as conflict:
                log.warning("%s; following again from the stored position", conflict)
            except retryable as error:
                delay = backoff.next()
                log.warning("projection %s: %s; retrying in %.1fs", self.name, error, delay)
                self._stopped.wait(delay)
            except HandlerFailedError as failure:
                self._stopped.wait(self._report_stuck(failure))
            else:
                backoff.reset()

    def rebuild(self, *, on_batch: ProgressCallback | None = None) -> int:
        """Clear the state, handle the whole log again but the skipped positions, commit: one
        transaction, atomically.

        Readers see the old state until the new one is complete; if a handler fails, they
        keep it (``RebuildFailedError``). Returns the position reached (the log's head
        when the rebuild began, for the projection's names).
        """
        names = self.projection.names
        head = self.feed.head(names)
        handled = 0
        with self.store.transaction() as tx:
            self._committer.prepare(tx)
            position = self.store.position(tx, self.name)
            self.store.advance(tx, self.name, position, 0)  # first: see ``sql_store``
            skipped = self.store.skipped_after(tx, self.name, 0)
            self.projection.clear(tx)
            position = 0
            pages = self.feed.history(
                0, names, until=head, page_size=self.page_size, personal=self.personal
            )
            for page in pages:
                self._committer.rebuild_page(page, skipped, tx)
                handled += len(page)
                position = page[-1].position
                if on_batch is not None:
                    on_batch(position, handled)
            self.store.advance(tx, self.name, 0, position)
            self.store.clear_stuck(tx, self.name, position)
        return position

    def stop(self) -> None:
        """End ``run`` after the batch in flight; safe from a signal handler."""
        self._stopped.set()
        follower = self._follower
        if follower is not None:
            follower.stop()

    def _follow(self, on_batch: ProgressCallback | None) -> None:
        position = self._committer.start()
        self.meter.reached(position)
        handled = 0
        with self.feed.follow(
            position, self.projection.names, page_size=self.page_size, personal=self.personal
        ) as events:
            self._follower = events
            if self._stopped.is_set():
                return
            for batch in events.batches():
                self._committer.commit(batch, position)
                if self._committer.stuck is None:
                    self._stuck_retry.reset()
                position = batch[-1].position
                self.meter.reached(position)
                handled += len(batch)
                if on_batch is not None:
                    on_batch(position, handled)

    def _report_stuck(self, failure: HandlerFailedError) -> float:
        """Log where the projection is stuck and how to skip it; the delay before retrying."""
        delay = self._stuck_retry.next()
        self.meter.handler_failed(failure.position)
        log.error(
            "projection %s is stuck at position %d (%s): %s; retrying in %.1fs; `%s` skips it",
            self.name,
            failure.position,
            failure.event_name,
            failure.error,
            delay,
            self.skip_command.format(position=failure.position),
        )
        log.debug("projection %s: the handler's failure", self.name, exc_info=failure.__cause__)
        return delay
