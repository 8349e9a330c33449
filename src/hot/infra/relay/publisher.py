"""Publishing a batch of events into the streams: atomically, in order, exactly once.

One Lua script call per batch adds each entry to the all-events stream and to its
name's stream, with the entry id ``<position>-0``, then trims. Redis runs a script
as one atomic step, like MULTI/EXEC, so a crash never leaves the streams half-written;
unlike MULTI/EXEC it can look before it writes, in the same step, at a cost of one
round trip and one command for the whole batch (measured about twice as fast as a
MULTI/EXEC of XADDs on a backlog). It looks twice:

- An entry is added to a stream only if its position is above the stream's last id
  (the rule Redis itself enforces on XADD), so publishing a batch again, or a batch
  that overlaps what another relay wrote, adds nothing twice.
- The batch is refused if the all-events stream stands *below* where the relay
  believes it stands: Redis lost data (a restart without persistence, a FLUSHALL),
  and appending would leave a hole. The relay then plans again from what Redis has.
  An ``exact`` publish (the write-through's) is refused unless it stands right there.

Trimming never removes a stream's newest entry, so a stream's last id, which is the
relay's position, survives any retention setting.

The script goes out on a connection the publisher keeps for it (taken once from the
pool of the server that holds the streams, given back by ``close``): the client's own
path takes, checks and gives back a pooled connection and records its metrics around
every command, which on a steady trickle of events costs about as much Python as the
rest of the round trip. On a Redis Cluster that server is the master of the streams'
slot (every key has the prefix's hash tag, so the script's keys are in one slot);
when it fails or redirects (a failover), the connection is given up, the client
learns the slots again, and the next call finds the new master.

Events are published as they are given: the relay reads them from the log with their
personal fields already masked unless it is ``personal`` (see ``source``).

A ``HUMAN_FORGOTTEN`` entry carries the positions of the human's earlier events, and
the script deletes them (XDEL) from the all-events stream and their names' streams
in the same atomic step, each time it meets the entry, added or already there: a
relay killed after the publish has deleted them too, and publishing again (after a
restart, a repair, or Redis losing data) deletes again what it added again. XDEL
leaves a stream's last id as it was, so where the relay stands never moves back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import redis
from redis.connection import Connection
from redis.exceptions import NoScriptError

from hot.application.views import RecordedEvent
from hot.domain import Human
from hot_follow.redis_client import NODE_CHANGED, RedisClient, learn_slots, slot_pool
from hot_follow.streams import FIELDS, StreamKeys, entry_values, position_of

# KEYS: the all-events stream, then the stream of each name the batch has (or erases).
# ARGV: expected last position of KEYS[1], "exact" if it must stand there exactly (else
# at least there), trim kind ("maxlen", "minid" or ""), trim value, field count F, the F
# field names, then per entry: the KEYS index of its name's stream, its position, its F
# field values, the count E of earlier entries to delete, then E pairs: the KEYS index
# of the entry's name's stream, and its position.
_PUBLISH = """
local info = redis.pcall('XINFO', 'STREAM', KEYS[1])
local actual = 0
if not info.err then
  for i = 1, #info, 2 do
    if info[i] == 'last-generated-id' then
      actual = tonumber(string.match(info[i + 1], '^(%d+)'))
    end
  end
end
local expected = tonumber(ARGV[1])
if actual < expected or (ARGV[2] == 'exact' and actual ~= expected) then
  return {0, actual}
end

local nfields = tonumber(ARGV[5])
local entry = {}
for f = 1, nfields do entry[2 * f - 1] = ARGV[5 + f] end
local last = {actual}
local i = 6 + nfields
while i <= #ARGV do
  local k = tonumber(ARGV[i])
  local position = tonumber(ARGV[i + 1])
  local id = ARGV[i + 1] .. '-0'
  for f = 1, nfields do entry[2 * f] = ARGV[i + 1 + f] end
  if position > last[1] then
    redis.call('XADD', KEYS[1], id, unpack(entry))
    last[1] = position
  end
  -- A name's stream refuses an id not above its last: then the entry is there already.
  local added = redis.pcall('XADD', KEYS[k], id, unpack(entry))
  if type(added) == 'table' and added.err then
    if not string.find(added.err, 'equal or smaller', 1, true) then return added end
  end
  last[k] = position
  i = i + 2 + nfields
  -- A forgotten human's earlier entries go, in the step that publishes the forgetting.
  for e = 1, tonumber(ARGV[i]) do
    local gone = ARGV[i + 2 * e] .. '-0'
    redis.call('XDEL', KEYS[1], gone)
    redis.call('XDEL', KEYS[tonumber(ARGV[i + 2 * e - 1])], gone)
  end
  i = i + 1 + 2 * tonumber(ARGV[i])
end

-- Every stream the batch belongs to is trimmed, added to or not: what another
-- publisher added without trimming (the write-through) is trimmed by the relay.
for k, position in pairs(last) do
  if ARGV[3] == 'maxlen' then
    redis.call('XTRIM', KEYS[k], 'MAXLEN', '~', ARGV[4])
  elseif ARGV[3] == 'minid' then
    local keep = math.min(tonumber(ARGV[4]), position)
    redis.call('XTRIM', KEYS[k], 'MINID', '~', string.format('%d-0', keep))
  end
end
return {1, last[1]}
"""


@dataclass(frozen=True)
class Trim:
    """How streams are trimmed after a publish: ``maxlen`` entries, or ids below ``minid``."""

    kind: str  # "maxlen", "minid", or "" for no trimming
    value: int = 0


@dataclass(frozen=True)
class Published:
    """What a publish found: ``accepted`` False means Redis stands below ``expected``."""

    accepted: bool  # with ``exact``: False also when Redis stands above ``expected``
    last: int  # the all-events stream's last position after the call


@dataclass(frozen=True)
class Batch:
    """Events encoded for the publish script; ``last`` is the newest one's position;
    ``keys``: the streams it writes (the all-events stream first)."""

    size: int
    last: int
    args: list[Any]
    keys: list[str]


FORGETTING = Human.Forgotten.TOPIC  # the name of the event that erases a human's entries

Earlier = Callable[[UUID, int], Sequence[tuple[str, int]]]
"""(subject, position) -> the (name, position) of the subject's public events before it."""


class StreamPublisher:
    """Writes batches of events into the streams of ``stream_keys`` on one Redis.

    ``earlier`` finds what a ``HUMAN_FORGOTTEN`` entry erases (``EventLog.earlier``).
    """

    def __init__(self, client: RedisClient, stream_keys: StreamKeys, earlier: Earlier) -> None:
        self.client = client
        self.stream_keys = stream_keys
        self.earlier = earlier
        self._script = client.register_script(_PUBLISH)
        self._conn: Connection | None = None  # kept for the script, see ``_run_script``
        self._pool: redis.ConnectionPool | None = None  # the pool it came from
        self._conn_lock = threading.Lock()

    def encode(self, events: Sequence[RecordedEvent]) -> Batch:
        """The script's arguments for ``events`` (in log order), in the caller's thread.

        Reads the log (``earlier``) only for the ``HUMAN_FORGOTTEN`` events among them.
        A batch names the streams it writes, so any name (a team's new type) has one.
        """
        keys = [self.stream_keys.all]
        index: dict[str, int] = {}

        def index_of(name: str) -> int:
            found = index.get(name)
            if found is None:
                keys.append(self.stream_keys.of(name))
                found = index[name] = len(keys)  # Lua is 1-based
            return found

        args: list[Any] = []
        for event in events:
            args.append(index_of(event.name))
            args.append(event.position)
            args.extend(entry_values(event))
            erased = self.earlier(event.subject, event.position) if event.name == FORGETTING else ()
            args.append(len(erased))
            for name, position in erased:
                args.extend((index_of(name), position))
        return Batch(len(events), events[-1].position if events else 0, args, keys)

    def publish(
        self,
        events: Batch | Sequence[RecordedEvent],
        expected: int,
        trim: Trim,
        *,
        exact: bool = False,
    ) -> Published:
        """Add the events (in log order) unless Redis stands below ``expected`` (or, if
        ``exact``, anywhere but at ``expected``)."""
        batch = events if isinstance(events, Batch) else self.encode(events)
        mode = "exact" if exact else "at least"
        args = [expected, mode, trim.kind, trim.value, len(FIELDS), *FIELDS, *batch.args]
        accepted, last = self._run_script(args, batch.keys)
        return Published(bool(accepted), int(last))

    def close(self) -> None:
        """Give the connection kept for publishing back to its pool."""
        with self._conn_lock:
            self._give_back()

    def _run_script(self, args: list[Any], every: list[str]) -> Any:
        """The publish script's reply, run on the connection kept for it.

        A connection Redis dropped while it was idle (its ``timeout``, a restart), or a
        cluster node that failed or no longer holds the slot, is found out by the call,
        and the call made once more on a new connection, to the server that holds the
        slot now (as the pool checks a connection before lending it): the script adds
        nothing twice, so running it again is safe. A second failure is raised (the
        relay backs off and tries again). A script Redis lost is loaded again, as
        ``Script`` does.
        """
        with self._conn_lock:
            try:
                return self._call(args, every)
            except NODE_CHANGED:
                self._give_back(broken=True)
            try:
                return self._call(args, every)
            except NODE_CHANGED:
                self._give_back(broken=True)
                raise

    def _call(self, args: list[Any], every: list[str]) -> Any:
        if self._conn is None:
            self._pool = slot_pool(self.client, self.stream_keys.all)
            self._conn = self._pool.get_connection()
        conn: Any = self._conn  # redis-py leaves these methods untyped
        try:
            conn.send_command("EVALSHA", self._script.sha, len(every), *every, *args)
            return conn.read_response()
        except NoScriptError:
            # Loaded on this connection: a cluster's new master may never have seen it.
            conn.send_command("SCRIPT", "LOAD", self._script.script)
            self._script.sha = _text(conn.read_response())
            conn.send_command("EVALSHA", self._script.sha, len(every), *every, *args)
            return conn.read_response()

    def _give_back(self, *, broken: bool = False) -> None:
        """Give the kept connection back to its pool; if ``broken``, close it first, and
        have a cluster client learn the slots again (the next one goes where they are)."""
        conn: Any = self._conn  # redis-py leaves ``disconnect`` untyped
        pool, self._conn, self._pool = self._pool, None, None
        if broken:
            if conn is not None:
                conn.disconnect()
            learn_slots(self.client)
        if conn is not None and pool is not None:
            pool.release(conn)

    def last_positions(self) -> dict[str, int]:
        """The last position of every stream by key (0 for a stream that does not exist)."""
        pipe = self.client.pipeline(transaction=False)
        for key in self.stream_keys.every:
            pipe.xinfo_stream(key)
        replies = pipe.execute(raise_on_error=False)
        return {
            key: _last_of(reply) for key, reply in zip(self.stream_keys.every, replies, strict=True)
        }

    def last_position(self) -> int:
        """The all-events stream's last position: where the relay stands (0 if missing)."""
        try:
            reply: Any = self.client.xinfo_stream(self.stream_keys.all)
        except redis.ResponseError as error:
            reply = error
        return _last_of(reply)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _last_of(reply: dict[str, Any] | Exception) -> int:
    """The last position in an XINFO STREAM reply; 0 for a stream that does not exist."""
    if isinstance(reply, redis.ResponseError) and "no such key" in str(reply):
        return 0
    if isinstance(reply, Exception):
        raise reply
    return position_of(reply["last-generated-id"])
