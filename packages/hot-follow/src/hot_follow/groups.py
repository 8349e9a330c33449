"""Competing consumers: a Redis consumer group over one stream, for work queues.

Each entry goes to one consumer of the group and stays pending until that consumer
acknowledges it (``XACK``). Entries a consumer left pending (it died, or hangs) for
``min_idle_seconds`` are claimed by another (``XAUTOCLAIM``); a consumer restarted
under its old name first takes back its own pending entries. So every entry is
processed at least once: handlers should be idempotent (the event's ``id`` or
``position`` is a natural key). An entry trimmed from the stream while pending is
read back from the log when the group has a ``source``.

Personal fields are masked, as in every read of HoT, unless the group is made
``personal``: then it gets them where the streams carry them (``HOT_STREAM_PERSONAL``)
and, given a ``source``, reads an entry the relay masked back from the log, where
they are (a mailer's group on ``HUMAN_REGISTERED`` needs the email).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import redis

from hot_follow.events import RecordedEvent
from hot_follow.names import unknown_names
from hot_follow.redis_client import RedisClient
from hot_follow.representation import is_masked, masked_event
from hot_follow.sources import EventSource
from hot_follow.stopping import StopFlag
from hot_follow.streams import StreamKeys, entry_id, event_from_entry, position_of

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """An entry handed to this consumer: acknowledge it once its work is done."""

    entry_id: str
    event: RecordedEvent


class ConsumerGroup:
    """Consumer ``consumer`` of group ``group`` on the stream of ``name`` (None: every event).

    ``personal``: personal fields shown rather than masked (see the module's docstring).
    """

    def __init__(
        self,
        client: RedisClient,
        group: str,
        consumer: str,
        *,
        prefix: str = "hot",
        name: str | None = None,
        start: int = 0,
        min_idle_seconds: float = 30.0,
        count: int = 100,
        block_seconds: float = 1.0,
        source: EventSource | None = None,
        personal: bool = False,
    ) -> None:
        stream_keys = StreamKeys(prefix, ())
        if name is not None and unknown_names([name]):
            raise ValueError(f"Unknown event name: {name}.")
        self.client = client
        self.key = stream_keys.all if name is None else stream_keys.of(name)
        self.group, self.consumer = group, consumer
        self.start = start
        self.min_idle_ms = int(min_idle_seconds * 1000)
        self.count = count
        self.block_ms = max(1, int(block_seconds * 1000))
        self.source = source
        self.personal = personal
        self._own_cursor: str | None = "0"  # first take back what this consumer left pending
        self._claim_cursor = "0-0"
        self._claimed_at = 0.0
        self._stopped = StopFlag()

    def create(self) -> None:
        """Create the group (from position ``start``) if it does not exist; idempotent."""
        try:
            self.client.xgroup_create(self.key, self.group, entry_id(self.start), mkstream=True)
        except redis.ResponseError as error:
            if "BUSYGROUP" not in str(error):
                raise

    def read(self) -> list[Delivery]:
        """The next entries for this consumer: its own pending, then stale ones, then new."""
        if self._own_cursor is not None:
            entries = self._readgroup(self._own_cursor, block=None)
            if entries:
                self._own_cursor = _text(entries[-1][0])
                return self._deliveries(entries)
            self._own_cursor = None
        claimed = self._claim_stale()
        if claimed:
            return claimed
        return self._deliveries(self._readgroup(">", block=self.block_ms))

    def ack(self, *deliveries: Delivery) -> None:
        if deliveries:
            self.client.xack(self.key, self.group, *(d.entry_id for d in deliveries))

    def process(self, handler: Callable[[RecordedEvent], object]) -> None:
        """Handle and acknowledge entries one by one until ``stop()``; a raise stops it."""
        self.create()
        for delivery in self:
            handler(delivery.event)
            self.ack(delivery)

    def __iter__(self) -> Iterator[Delivery]:
        while not self._stopped.is_set():
            yield from self.read()

    def stop(self) -> None:
        self._stopped.set()

    def _readgroup(self, after: str, block: int | None) -> list[tuple[Any, Any]]:
        reply: Any = self.client.xreadgroup(
            self.group, self.consumer, {self.key: after}, count=self.count, block=block
        )
        return list(reply[0][1]) if reply else []

    def _claim_stale(self) -> list[Delivery]:
        """Entries idle longer than ``min_idle_seconds`` in other consumers' hands, now ours."""
        now = time.monotonic()
        if now - self._claimed_at < self.min_idle_ms / 2000:
            return []
        reply = self.client.xautoclaim(
            self.key, self.group, self.consumer, self.min_idle_ms, self._claim_cursor, self.count
        )
        cursor, entries = reply[0], reply[1]
        trimmed = reply[2] if len(reply) > 2 else []
        self._claim_cursor = cursor.decode() if isinstance(cursor, bytes) else str(cursor)
        if self._claim_cursor == "0-0":
            self._claimed_at = now  # a full pass over the pending entries: rest a while
        deliveries = self._deliveries(entries)
        deliveries += [d for d in map(self._from_log, trimmed) if d is not None]
        if deliveries:
            log.info("%s claimed %d stale entries of %s", self.consumer, len(deliveries), self.key)
        return sorted(deliveries, key=lambda d: position_of(d.entry_id))

    def _deliveries(self, entries: list[tuple[Any, Any]]) -> list[Delivery]:
        found: list[Delivery] = []
        for raw_id, fields in entries:
            if not fields:  # deleted from the stream while pending
                delivery = self._from_log(raw_id)
            else:
                delivery = self._shown(raw_id, event_from_entry(fields))
            if delivery is not None:
                found.append(delivery)
        return found

    def _shown(self, raw_id: Any, event: RecordedEvent) -> Delivery | None:
        """The entry's event as this group may see it: masked unless it is ``personal``;
        for a personal group with a source, an entry the relay masked comes from the log."""
        if not self.personal:
            return Delivery(_text(raw_id), masked_event(event))
        if self.source is not None and is_masked(event):
            return self._from_log(raw_id)
        return Delivery(_text(raw_id), event)

    def _from_log(self, raw_id: Any) -> Delivery | None:
        position, text = position_of(raw_id), _text(raw_id)
        events = (
            self.source.read(position - 1, 1, upto=position, personal=self.personal)
            if self.source
            else []
        )
        if not events:
            log.error("entry %s of %s was trimmed while pending and is lost", text, self.key)
            self.client.xack(self.key, self.group, text)
            return None
        return Delivery(text, events[0])


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
