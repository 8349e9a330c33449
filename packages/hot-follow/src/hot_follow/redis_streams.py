"""Reading the relay's Redis streams: atomic snapshots, and a blocking wait for more.

Unfiltered followers read the all-events stream. Followers of some names read those
names' streams (``XREAD`` over several keys), so that a follower of a rare event
neither receives nor decodes the frequent ones, and so that it reaches further back
(each stream is trimmed to its own length). The relay writes every stream of a
batch in one atomic step, and one ``XREAD`` of several keys is one atomic step too,
so a merge by position is the log order: entries are taken up to the smallest last
position among the streams that filled their ``count`` (beyond it, a fuller stream
might still have an earlier entry to give), and the rest is read again next time.

Each read also returns, in the same MULTI, every stream's first entry: the follower
needs it to know whether the stream still reaches back to its position.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from hot_follow.events import RecordedEvent
from hot_follow.redis_client import RedisClient
from hot_follow.streams import StreamKeys, entry_id, event_from_entry, position_of


@dataclass(frozen=True)
class StreamRead:
    """A snapshot: the events after a position, and each stream's first position (or None)."""

    events: list[RecordedEvent]
    firsts: dict[str, int | None]


class StreamReader:
    """Reads the streams under ``prefix`` that carry ``names`` (empty: every name)."""

    def __init__(
        self, client: RedisClient, prefix: str, names: Sequence[str] = (), count: int = 1000
    ) -> None:
        self.client = client
        self.count = count
        stream_keys = StreamKeys(prefix, ())
        if not names:
            self.names_of: dict[str, tuple[str, ...]] = {stream_keys.all: ()}
        else:
            self.names_of = {stream_keys.of(name): (name,) for name in names}

    def read(self, after: int) -> StreamRead:
        """The entries after ``after`` in log order, and where each stream begins, atomically."""
        pipe = self.client.pipeline(transaction=True)
        pipe.xread({key: entry_id(after) for key in self.names_of}, count=self.count)
        for key in self.names_of:
            pipe.xrange(key, "-", "+", count=1)
        reply, *firsts = pipe.execute()
        per_key = _entries_by_key(reply)
        full = [entries[-1][0] for entries in per_key.values() if len(entries) >= self.count]
        bound = min(full) if full else None
        events = [
            event_from_entry(fields)
            for entries in per_key.values()
            for position, fields in entries
            if bound is None or position <= bound
        ]
        if len(per_key) > 1:
            events.sort(key=lambda e: e.position)
        starts = {
            key: position_of(first[0][0]) if first else None
            for key, first in zip(self.names_of, firsts, strict=True)
        }
        return StreamRead(events, starts)

    def wait(self, after: int, seconds: float) -> bool:
        """Block up to ``seconds`` until some stream has an entry after ``after``."""
        block = max(1, int(seconds * 1000))  # 0 would block forever
        reply = self.client.xread(
            {key: entry_id(after) for key in self.names_of}, count=1, block=block
        )
        return bool(reply)


def _entries_by_key(reply: Any) -> dict[str, list[tuple[int, Any]]]:
    """XREAD's reply (RESP2 list or RESP3 dict) as key -> [(position, fields)]: parsed by
    redis-py, or raw (a cluster's transaction leaves it so: fields as a flat list)."""
    items = reply.items() if isinstance(reply, dict) else (reply or [])
    found: dict[str, list[tuple[int, Any]]] = {}
    for key, entries in items:
        if entries and _is_entry_list(entries[0]):
            entries = entries[0]  # parsed RESP3 wraps each stream's entries once more
        name = key.decode() if isinstance(key, bytes) else str(key)
        found[name] = [(position_of(entry[0]), _fields(entry[1])) for entry in entries]
    return found


def _is_entry_list(value: Any) -> bool:
    return isinstance(value, list) and (not value or isinstance(value[0], list | tuple))


def _fields(fields: Any) -> Any:
    """An entry's fields as a mapping (a raw reply has them as a flat list)."""
    return dict(zip(fields[::2], fields[1::2], strict=True)) if isinstance(fields, list) else fields
