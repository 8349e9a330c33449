"""``ProjectionRunner``: keeps a projection current, exactly once; rebuilds it in one call.

Each batch of events is handled in one transaction of the projection's store, which
also moves the projection's position to the batch's last event. A crash anywhere
leaves either the whole batch and its position, or neither, so a restart goes on
from the position stored and no effect is lost or repeated. After any failure the
runner reads the stored position again and follows from there.

A runner made ``personal`` hands its projection names, emails and reasons: it
accepts only a projection that forgets (defines ``forget``), which it calls for each
``HUMAN_FORGOTTEN`` in that event's batch transaction, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Generic, TypeVar

from hot.application import RecordedEvent
from hot.follow.backoff import Backoff
from hot.follow.errors import ProjectionConflictError, SourceUnavailableError
from hot.follow.feed import Feed
from hot.follow.follower import Follower
from hot.follow.projection import Projection
from hot.follow.stopping import StopFlag
from hot.follow.stores import ProjectionStore
from hot.tuning import FOLLOWER_PAGE

log = logging.getLogger(__name__)

Tx = TypeVar("Tx")
ProgressCallback = Callable[[int, int], None]  # (position reached, events handled so far)


class ProjectionRunner(Generic[Tx]):
    """Runs ``projection`` on the events of ``feed``, keeping its state in ``store``."""

    def __init__(
        self,
        projection: Projection[Tx],
        store: ProjectionStore[Tx],
        feed: Feed,
        *,
        page_size: int = FOLLOWER_PAGE,
        personal: bool = False,
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
        self._stopped = StopFlag()
        self._follower: Follower | None = None

    @property
    def name(self) -> str:
        return self.projection.name

    def position(self) -> int:
        """The position of the last event the projection's state includes (creating it if new)."""
        with self.store.transaction() as tx:
            self.store.prepare(tx, self.name)
            self.projection.setup(tx)
            return self.store.position(tx, self.name)

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
            else:
                backoff.reset()

    def rebuild(self, *, on_batch: ProgressCallback | None = None) -> int:
        """Clear the state, handle the whole log again, commit: one transaction, atomically.

        Readers see the old state until the new one is complete. Returns the position
        reached (the log's head when the rebuild began, for the projection's names).
        """
        names = self.projection.names
        head = self.feed.head(names)
        handled = 0
        with self.store.transaction() as tx:
            self.store.prepare(tx, self.name)
            self.projection.setup(tx)
            position = self.store.position(tx, self.name)
            self.store.advance(tx, self.name, position, 0)
            self.projection.clear(tx)
            position = 0
            pages = self.feed.history(
                0, names, until=head, page_size=self.page_size, personal=self.personal
            )
            for page in pages:
                self._handle(page, tx)
                handled += len(page)
                position = page[-1].position
                if on_batch is not None:
                    on_batch(position, handled)
            self.store.advance(tx, self.name, 0, position)
        return position

    def stop(self) -> None:
        """End ``run`` after the batch in flight; safe from a signal handler."""
        self._stopped.set()
        follower = self._follower
        if follower is not None:
            follower.stop()

    def _follow(self, on_batch: ProgressCallback | None) -> None:
        position = self.position()
        handled = 0
        with self.feed.follow(
            position, self.projection.names, page_size=self.page_size, personal=self.personal
        ) as events:
            self._follower = events
            if self._stopped.is_set():
                return
            for batch in events.batches():
                with self.store.transaction() as tx:
                    self._handle(batch, tx)
                    self.store.advance(tx, self.name, position, batch[-1].position)
                position = batch[-1].position
                handled += len(batch)
                if on_batch is not None:
                    on_batch(position, handled)

    def _handle(self, batch: list[RecordedEvent], tx: Tx) -> None:
        self.projection.apply(batch, tx)
