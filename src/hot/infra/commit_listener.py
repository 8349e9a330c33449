"""``CommitListener``: tells a process's known state of every commit to the log.

Commands decide on the state their process knows, and reads of a human's current state
answer from it when it is current; so a process that serves them learns what every
process commits. The listener LISTENs on the events channel, on a connection of its
own, in a thread: a commit's notification carries its rows when they fit, or which
aggregates moved on (see ``hot.infra.recorder.NOTICE_LIMIT``), and the listener reads
only the states of events it will apply; a notification with nothing, it reads the rows
after the last one learned. Notifications arrive in commit order, which the table lock
makes log order. (Its own commits it has known since they committed: nothing to read.)

When its connection is made (or made again), the known state starts afresh from the
log's head, read after LISTEN: whatever was known before may have missed a commit.
While the connection is down, the known state knows nothing, so nothing stale is used.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence

import psycopg
from psycopg import sql

from hot.application.decoding import Row
from hot.application.known import KnownState
from hot.infra.notices import noticed_rows
from hot.tuning import COMMIT_LISTENER_PAGE, LISTENER_RECONNECT_SECONDS

log = logging.getLogger(__name__)


ReadAfter = Callable[[int, int], Sequence[Row]]
"""(position, limit) -> up to ``limit`` stored events after ``position``, in log order."""
ReadAt = Callable[[Sequence[int]], Sequence[Row]]
"""(positions) -> the stored events at those positions."""
Head = Callable[[], int]
"""The position of the newest event of the log, read now."""


class CommitListener:
    """Keeps ``known`` up with the log of the database at ``database_url``."""

    def __init__(
        self,
        database_url: str,
        channel: str,
        known: KnownState,
        read_after: ReadAfter,
        read_at: ReadAt,
        head: Head,
    ) -> None:
        self._url = database_url
        self._channel = channel
        self._known = known
        self._read_after = read_after
        self._read_at = read_at
        self._head = head
        self._closed = threading.Event()
        self.listening = threading.Event()  # set while notifications are received
        self._thread = threading.Thread(target=self._run, name="hot-commit-listener", daemon=True)

    def start(self) -> CommitListener:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                if not self._closed.is_set():
                    log.warning(
                        "commit listener: %s; again in %gs", error, LISTENER_RECONNECT_SECONDS
                    )
            finally:
                self.listening.clear()
                self._known.lose_track()
            self._closed.wait(LISTENER_RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(
            self._url, autocommit=True, connect_timeout=5, application_name="hot-commit-listener"
        ) as conn:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
            self._known.follow_from(self._head())  # read after LISTEN
            self.listening.set()
            while not self._closed.is_set():
                for notification in conn.notifies(timeout=0.5):
                    self._learn(notification.payload)

    def _learn(self, payload: str) -> None:
        rows = noticed_rows([payload], self._known.position, COMMIT_LISTENER_PAGE, states=False)
        if rows is None:  # rows that did not fit: read them
            while page := self._read_after(self._known.position, COMMIT_LISTENER_PAGE):
                self._known.learn(page)
            return
        wanted = self._known.wanted(rows)  # noticed without the states it needs
        if wanted:
            read = {row.position: row for row in self._read_at(wanted)}
            rows = [read.get(row.position, row) for row in rows]
        self._known.learn(rows)
