"""Benchmark of the relay, against the bare minimum of each of its two jobs, in one run.

(a) Latency from commit to the entry being readable with XREAD, at a steady rate of
    one event a transaction, against bare PostgreSQL NOTIFY -> LISTEN round trips at
    the same rate: a NOTIFY alone in its transaction (which commits without a WAL
    flush), and the NOTIFY of the very same event writes (whose commit waits for one).
    Events go to Redis through ``hot relay`` alone, and through the writer's
    write-through with ``hot relay`` beside it (HoT's default, which is judged).
    ``hot relay`` runs as its own process, and so do the receivers, so that the writer
    never delays them.

    Two clocks: "from before COMMIT" starts just before COMMIT is sent, as the NOTIFY
    round trips' clock does: the same clock for HoT and its baselines, so this is the
    one judged (target: p99 <= 3x the bare NOTIFY's). It counts the commit's WAL flush,
    which a NOTIFY alone does not wait for. "From commit" starts when COMMIT has
    returned (what a command's client waits for); it is shown beside, and compared with
    nothing, since no baseline is timed on that clock.
(b) The rate at which an in-process relay publishes a backlog, against raw pipelined
    XADD of the same entries into a scratch stream, both in an interpreter tuned as
    ``hot relay`` and ``hot serve`` tune theirs (``tune_runtime``), which is judged,
    and both in an untouched one, shown beside: the median ratio of interleaved rounds.

    uv run python bench/relay_bench.py [--quick]

Uses HOT_BENCH_DATABASE_URL / HOT_BENCH_REDIS_URL (default: the local servers); creates
and drops a database of its own, and deletes its own Redis keys.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
import redis

from hot.application import CATALOG, HumansApplication
from hot.application.group_commit import CommittedBatch, Written
from hot.cli.runtime import tuned_runtime
from hot.domain import Human, HumanKind
from hot.infra.bootstrap import build_application, write_through
from hot.infra.database import create_database, drop_database
from hot.infra.relay import Relay, entry_fields
from hot.infra.relay.leader import lock_holder
from hot.infra.relay.source import EventLog
from hot.infra.settings import StreamRetention

DATABASE_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
RATE = 500  # events a second, one event a transaction
TARGET_LATENCY_RATIO = 3.0
ROUNDS = 3  # baselines and relay interleaved; the median ratio is judged, all are shown
WARM_UP_SECONDS = 0.5
TARGET_BACKLOG_RATIO = 0.25


def paced(rate: int, seconds: float) -> Iterator[int]:
    """Yield 0, 1, 2, ... at ``rate`` a second (catching up if late), for ``seconds``."""
    start = time.perf_counter()
    for i in range(int(rate * seconds)):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        yield i


def percentiles(latencies: list[float]) -> tuple[float, float]:
    """p50 and p99, in milliseconds."""
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[98] * 1000


def write_paced(app: HumansApplication, seconds: float) -> list[tuple[str, float, float]]:
    """Commit one registration a transaction at RATE a second, the way the recorder's
    ``write`` does (table lock, then the INSERT that also sends the NOTIFY with the rows),
    with a clock that starts just before COMMIT; after COMMIT, the application's commit
    listeners (the write-through, if on) are told, as the group committer tells them.
    (event id, that time, the time COMMIT returned) of each."""
    sent: list[tuple[str, float, float]] = []
    recorder: Any = app.recorder
    for i in paced(RATE, seconds):
        human = Human.register(f"Bench {i}", f"bench-{i}@example.org", HumanKind.GUEST)
        events = human.collect_events()
        stored = [app.mapper.to_stored_event(e) for e in events]
        with (
            recorder.datastore.get_connection() as conn,
            conn.transaction(),
            conn.cursor() as curs,
        ):
            recorder._lock_table(curs)
            recorder._insert_notifying(curs, stored, CATALOG.names)
            inserted = curs.fetchall()
            before_commit = now()  # then COMMIT
        sent.append((str(events[0].event_id), before_commit, now()))
        written = [
            Written(e, row["notification_id"]) for e, row in zip(events, inserted, strict=True)
        ]
        batch = CommittedBatch(written, [human], inserted[0]["before"], waiting=False)
        for listener in app.commit_listeners:
            listener(batch)
    return sent


def now() -> float:
    """A clock that every process of the machine shares (CLOCK_MONOTONIC)."""
    return time.clock_gettime(time.CLOCK_MONOTONIC)


def receive(kind: str, url: str, name: str, ready: Any, stop: Any, out: Any) -> None:
    """In a process of its own, so that the bench's writer never delays it: record when
    each notification on channel ``name`` (kind "listen") or each entry of stream
    ``name`` (kind "xread") arrives; send (payload or event id, time) pairs to ``out``."""
    received: list[tuple[str, float]] = []
    if kind == "listen":
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"LISTEN {name}")
            ready.set()
            while not stop.is_set():
                received.extend((n.payload, now()) for n in conn.notifies(timeout=0.1))
    else:
        client = redis.Redis.from_url(url)
        newest = client.xrevrange(name, count=1)  # not "$": what comes before the first
        last = newest[0][0] if newest else "0-0"  # XREAD call is read too
        ready.set()
        while not stop.is_set():
            for _, entries in client.xread({name: last}, block=100, count=1000) or ():
                at = now()
                received.extend((fields[b"id"].decode(), at) for _, fields in entries)
                last = entries[-1][0]
    out.send(received)


@contextmanager
def receiving(kind: str, url: str, name: str) -> Iterator[list[tuple[str, float]]]:
    """What a receiver process got while the block ran (filled in when it ends)."""
    context = multiprocessing.get_context("spawn")
    ready, stop = context.Event(), context.Event()
    theirs, ours = context.Pipe()
    process = context.Process(target=receive, args=(kind, url, name, ready, stop, theirs))
    process.start()
    ready.wait(30)
    received: list[tuple[str, float]] = []
    try:
        yield received
        time.sleep(1.0)
    finally:
        stop.set()
        received.extend(ours.recv())
        process.join(10)


def bare_notify_latency(database_url: str, seconds: float) -> list[float]:
    """A NOTIFY alone in its transaction (nothing written), to a LISTENing connection."""
    sent: dict[str, float] = {}
    with (
        receiving("listen", database_url, "bench") as received,
        psycopg.connect(database_url) as sender,
    ):
        for i in paced(RATE, seconds):
            sender.execute("SELECT pg_notify('bench', %s)", (str(i),))
            sent[str(i)] = now()
            sender.commit()
    return [t - sent[payload] for payload, t in received]


def event_notify_latency(app: HumansApplication, database_url: str, seconds: float) -> list[float]:
    """The NOTIFY that committing an event sends, to a LISTENing connection: what it
    takes PostgreSQL to tell anyone of a commit (its WAL flush included)."""
    with receiving("listen", database_url, "hot_events") as received:
        sent = write_paced(app, seconds)
    # One NOTIFY a transaction, delivered in commit order: the i-th is the i-th commit.
    return [t - s for (_, s, _), (_, t) in zip(sent, received, strict=True)]


def relay_latency(
    app: HumansApplication, key: str, seconds: float
) -> tuple[list[float], list[float]]:
    """Commit one event at RATE a second; the latency of each to an XREAD of ``key``,
    from commit and from before COMMIT."""
    with receiving("xread", REDIS_URL, key) as received:
        sent = write_paced(app, seconds)
    arrived = dict(received)
    if len(arrived) != len(sent):
        raise SystemExit(f"{len(sent) - len(arrived)} of {len(sent)} events never arrived")
    from_commit = [arrived[k] - committed for k, _, committed in sent]
    from_before = [arrived[k] - before for k, before, _ in sent]
    return from_commit, from_before


def write_backlog(app: HumansApplication, count: int) -> None:
    """``count`` registrations, in large transactions."""
    for start in range(0, count, 5000):
        humans = [
            Human.register(f"Backlog {i}", f"backlog-{i}@example.org", HumanKind.EMPLOYEE)
            for i in range(start, min(start + 5000, count))
        ]
        app.save(*humans)


def backlog_rate(
    app: HumansApplication, client: redis.Redis, database_url: str, prefix: str
) -> tuple[int, float]:
    """Events a second at which an in-process relay publishes the whole log to empty streams."""
    everything = StreamRetention(count=10**9)
    relay = Relay(app, client, database_url, prefix=prefix, retention=everything)
    log = EventLog(app)
    head, count = log.head(), log.count_after(0, 10**9)
    started = time.perf_counter()
    relay.start()
    while relay.status().published < head:
        time.sleep(0.01)
    elapsed = time.perf_counter() - started
    relay.stop()
    return count, count / elapsed


def backlog_rounds(
    app: HumansApplication, client: redis.Redis, database_url: str, prefix: str
) -> None:
    """Part (b): ROUNDS rounds, each timing the relay and then its raw XADD baseline in an
    interpreter tuned as ``hot relay`` tunes its own (judged) and in an untouched one, in
    alternating order; the median ratio of each way, and every round's."""
    ratios: dict[bool, list[float]] = {True: [], False: []}
    for round_ in range(1, ROUNDS + 1):
        for tuned in (True, False) if round_ % 2 else (False, True):
            streams = f"{prefix}-{round_}-{'tuned' if tuned else 'untouched'}"
            with tuned_runtime() if tuned else contextlib.nullcontext():
                count, rate = backlog_rate(app, client, database_url, streams)
                raw = raw_xadd_rate(app, client, f"{streams}:scratch")
            for key in client.scan_iter(f"{streams}*"):
                client.delete(key)
            ratios[tuned].append(rate / raw)
            way = "tuned    " if tuned else "untouched"
            print(
                f"    {round_}: {way} relay {rate:8,.0f} events/s ({count:,} events), "
                f"raw pipelined XADD {raw:8,.0f} events/s, ratio {rate / raw:.2f}x"
            )
    for tuned in (True, False):
        ratio = statistics.median(ratios[tuned])
        each = ", ".join(f"{r:.2f}x" for r in ratios[tuned])
        if tuned:
            verdict = "ok" if ratio >= TARGET_BACKLOG_RATIO else "MISSED"
            print(f"    tuned as hot relay, judged: ratio {ratio:.2f}x ({each}) {verdict}")
        else:
            print(f"    untouched, shown:           ratio {ratio:.2f}x ({each})")
    print(f"      (target >= {TARGET_BACKLOG_RATIO}x, median of the rounds)")


def raw_xadd_rate(app: HumansApplication, client: redis.Redis, key: str) -> float:
    """Events a second of pipelined XADD of the same entries into one scratch stream."""
    log, entries, after = EventLog(app), [], 0
    while events := log.read(after, 5000):
        entries.extend((f"{e.position}-0", entry_fields(e)) for e in events)
        after = events[-1].position
    started = time.perf_counter()
    for chunk in range(0, len(entries), 2000):
        pipe = client.pipeline(transaction=False)
        for entry_id, fields in entries[chunk : chunk + 2000]:
            pipe.xadd(key, fields, id=entry_id)
        pipe.execute()
    return len(entries) / (time.perf_counter() - started)


@contextmanager
def relay_process(database_url: str, prefix: str) -> Iterator[None]:
    env = {**os.environ, "HOT_DATABASE_URL": database_url, "HOT_REDIS_URL": REDIS_URL}
    env["HOT_REDIS_PREFIX"] = prefix
    hot = Path(sys.executable).parent / "hot"
    process = subprocess.Popen([str(hot), "relay"], env=env, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        process.terminate()
        process.wait(10)


def relay_round(
    app: HumansApplication, database_url: str, prefix: str, seconds: float, *, through: bool
) -> tuple[list[float], list[float]]:
    """Start ``hot relay``, let it warm up (its first publishes load the script and
    prepare the statements), then measure the latency of each event through it; with
    the writer's write-through on (HoT's default) if ``through``."""
    stop_through = write_through(app, REDIS_URL, prefix=prefix, personal=False) if through else None
    try:
        with relay_process(database_url, prefix):
            wait_until(lambda: lock_holder(database_url, prefix) is not None, 30)
            time.sleep(0.5)  # it LISTENs right after taking the lock
            write_paced(app, WARM_UP_SECONDS)
            time.sleep(0.5)
            return relay_latency(app, f"{prefix}:events", seconds)
    finally:
        if stop_through is not None:
            stop_through()


def show(what: str, figures: tuple[float, float]) -> None:
    print(f"    {what:52} p50 {figures[0]:7.2f} ms   p99 {figures[1]:7.2f} ms")


def wait_until(predicate: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(0.05)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s of latency, a 20,000 backlog")
    args = parser.parse_args()
    seconds, backlog = (2.0, 20_000) if args.quick else (10.0, 200_000)
    name, prefix = f"hot_bench_{uuid.uuid4().hex[:8]}", f"hot-bench-{uuid.uuid4().hex[:8]}"
    database_url = create_database(DATABASE_URL, name)
    client = redis.Redis.from_url(REDIS_URL)
    app = build_application(database_url, max_batch=1)
    try:
        load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"{os.cpu_count()} CPUs, load average {load}")
        print(f"(a) latency, commit -> readable, {RATE} events/s for {seconds:.0f} s a run,")
        print(f"    {ROUNDS} rounds of the four (the relay runs only in its own turns)")
        ratios: dict[tuple[str, str], list[float]] = {}
        for round_ in range(1, ROUNDS + 1):
            bare = percentiles(bare_notify_latency(database_url, seconds))
            show(f"{round_}: bare NOTIFY -> LISTEN, from before COMMIT", bare)
            notify = percentiles(event_notify_latency(app, database_url, seconds))
            show(f"{round_}: event's NOTIFY -> LISTEN, from before COMMIT", notify)
            for through, path in ((False, "relay alone"), (True, "write-through")):
                from_commit, from_before = relay_round(
                    app, database_url, prefix, seconds, through=through
                )
                clocks = (("from commit", from_commit), ("from before COMMIT", from_before))
                for clock, figures in clocks:
                    hot = percentiles(figures)
                    show(f"{round_}: {path} -> XREAD, {clock}", hot)
                    if clock == "from before COMMIT":  # the baselines' clock
                        for against, baseline in (
                            ("bare NOTIFY", bare),
                            ("event's NOTIFY", notify),
                        ):
                            ratios.setdefault((path, against), []).append(hot[1] / baseline[1])
        print("    p99 ratios from before COMMIT (every baseline's clock), median of the rounds:")
        for (path, against), each in ratios.items():
            ratio = statistics.median(each)
            judged = (path, against) == ("write-through", "bare NOTIFY")
            verdict = ("ok" if ratio <= TARGET_LATENCY_RATIO else "MISSED") if judged else "shown"
            shown = ", ".join(f"{r:.2f}x" for r in each)
            what = f"{path}, to the {against}:"
            print(f"      {what:58} {ratio:5.2f}x ({shown}) {verdict}")
        target = TARGET_LATENCY_RATIO
        print(f"      (target <= {target:g}x; the issue's baseline is the bare NOTIFY)")

        print(f"(b) publishing a backlog of {backlog:,} events")
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        write_backlog(app, backlog)
        with psycopg.connect(database_url, autocommit=True) as conn:
            conn.execute("ANALYZE hot_events")  # as autovacuum soon would
        backlog_rounds(app, client, database_url, prefix)
    finally:
        app.close()
        for key in client.scan_iter(f"{prefix}*"):
            client.delete(key)
        client.close()
        drop_database(DATABASE_URL, name)


if __name__ == "__main__":
    main()
