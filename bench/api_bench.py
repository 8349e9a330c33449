"""Benchmark of the command and read paths, each against a baseline, in one run.

(a) 64 concurrent clients of single-event commands (``attend`` on many humans) through
    the application layer with group commit (coroutines on one event loop, as the API
    runs them), against one transaction per command (``max_batch=1``), against raw
    single-row INSERT+COMMIT with psycopg in 64 threads.
(b) ``POST /humans/{id}/attend`` over HTTP with 64 connections (wrk), against a bare
    Litestar endpoint on the same server that validates the same body and returns 200.
(c) ``GET /humans/{id}`` over HTTP with 64 connections, against a bare Litestar GET
    on the same server.
(d) Attends over HTTP with 32 connections spread over the humans, ``hot serve`` with
    ``HOT_WORKERS=2`` against one worker: several processes must not be slower than one.
(e) ``POST /events`` of a team's event type (the seed's standup: its schema checked, its
    personal field sealed) with 64 connections, against ``POST /humans/{id}/attend`` on
    the same server; and what validating one payload costs, against ``json.loads`` of it.
(f) ``POST /humans/{id}/attend`` with 64 connections, metrics on (the default) against
    ``HOT_METRICS=off``; then traces on (every request sampled, exported over OTLP/HTTP
    to a receiver in this process that drops what it is sent), and traces on with one
    request in 100 sampled (``parentbased_traceidratio``), against metrics on alone.
    Each server started the same way, on a database of its own, one up at a time, a
    new start of each every round (9 rounds).
(g) Attends over HTTP with 32 connections, two ``hot serve`` instances of one worker each
    on one database and one stream prefix (one wrk each, half the connections and half the
    humans), against one instance with all of them: a second instance must not slow HoT.

Every server runs as ``hot serve`` runs it (``hot.cli.serve.run``): the relay and the
SQL read projector in its background process, the streams' write-through on, the runtime
tuned; each has read every human once (on one of two workers: (d) warms up longer, so
that both have served every human). Each HTTP figure is the median of interleaved
rounds (baseline, subject, baseline, ...), every round's ratio shown; a single answer
that is not 2xx, or a socket error, fails the run.

    uv run python bench/api_bench.py [--quick] [--only a|http|d|team|metrics|instances]

Needs ``wrk`` (``apt-get install -y wrk``). Uses HOT_BENCH_DATABASE_URL and
HOT_BENCH_REDIS_URL (default: the local servers); creates and drops databases of its
own, and deletes its own Redis keys.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import timeit
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import psycopg
import redis
from litestar import Litestar, get, post
from litestar.params import JSONBody
from validation_bench import STANDUP_V2, STANDUP_V2_PAYLOAD  # bench/, beside this script

from hot.api.models import AttendBody
from hot.api.params import HumanId
from hot.application import HumansApplication
from hot.application.payload_schemas import PayloadValidator
from hot.cli import serve as hot_serve
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import build_application
from hot.infra.database import create_database, drop_database
from hot.infra.settings import Settings

SERVER_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENTS = 64
WORKERS_CONNECTIONS = 32
JOINED_ON = date(2000, 1, 1)
WORKERS_WARMUP = 3
"""(d) warms each server up this many times as long: priming reads each human once, on
one worker of two, so the other loads it on its first command; a longer warm-up serves
every human several times, on both workers, and the run measures their steady state."""
TARGET_GROUP_COMMIT = 4.0
TARGET_HTTP = 0.5
TARGET_WORKERS = 1.0
TARGET_GET = 0.30  # twice the 0.15x of the GET before issue 15
TARGET_TEAM = 0.8
TARGET_METRICS = 0.95  # issue 19: metrics on at >= 0.95x the rate with metrics off
TARGET_TRACES = None  # no target: what tracing every request costs, shown
METRICS_ROUNDS_PER_ROUND = 2
"""(f) runs twice the plan's rounds less one (9 of a full run): a difference of a few
percent between two servers needs more rounds than the other figures' to stand out
from a shared machine's noise."""
TEAM_TYPE, TEAM_VERSION = "RECEIVED_STANDUP_UPDATE", 1
TEAM_PAYLOAD, TEAM_SCHEMA = STANDUP_V2_PAYLOAD, STANDUP_V2  # the seed's standup, version 2


@dataclass
class Plan:
    humans: int
    seconds: float
    warmup: float
    rounds: int


FULL = Plan(humans=2000, seconds=10.0, warmup=2.0, rounds=5)
QUICK = Plan(humans=500, seconds=3.0, warmup=1.0, rounds=3)


class Days:
    """Hands out (human, day) pairs never used before, so every attend is accepted."""

    def __init__(self, humans: list[uuid.UUID]) -> None:
        self.humans = humans
        self.next_round = 0

    def rounds(self, client: int) -> Iterator[tuple[uuid.UUID, date]]:
        """Client ``client``'s share: its humans, one new day each per round."""
        mine = self.humans[client::CLIENTS]
        start = self.next_round
        for k in range(start, start + 100_000):
            day = JOINED_ON + timedelta(days=1 + k)
            for human in mine:
                yield human, day

    def done(self, rounds_used: int) -> None:
        self.next_round += rounds_used + 1


# (a) The application layer ----------------------------------------------------------


def measure(work: Callable[[int, threading.Event, list[int]], None], plan: Plan) -> float:
    """Operations a second of ``CLIENTS`` threads running ``work``, after a warm-up."""
    stop = threading.Event()
    counts = [0] * CLIENTS
    threads = [
        threading.Thread(target=work, args=(c, stop, counts), daemon=True) for c in range(CLIENTS)
    ]
    for t in threads:
        t.start()
    time.sleep(plan.warmup)
    before, started = sum(counts), time.perf_counter()
    time.sleep(plan.seconds)
    after, elapsed = sum(counts), time.perf_counter() - started
    stop.set()
    for t in threads:
        t.join()
    return (after - before) / elapsed


async def application_rate(app: HumansApplication, days: Days, plan: Plan) -> float:
    """Attends a second of ``CLIENTS`` concurrent clients on one event loop, as the API's
    requests are, after a warm-up."""
    stop = asyncio.Event()
    counts = [0] * CLIENTS
    most_rounds = [0] * CLIENTS

    async def client(c: int) -> None:
        mine = len(days.humans[c::CLIENTS])
        for n, (human, day) in enumerate(days.rounds(c)):
            if stop.is_set():
                most_rounds[c] = n // max(mine, 1) + 1
                return
            await app.attend(human, day)
            counts[c] += 1

    clients = [asyncio.create_task(client(c)) for c in range(CLIENTS)]
    await asyncio.sleep(plan.warmup)
    before, started = sum(counts), time.perf_counter()
    await asyncio.sleep(plan.seconds)
    after, elapsed = sum(counts), time.perf_counter() - started
    stop.set()
    await asyncio.gather(*clients)
    days.done(max(most_rounds))
    return (after - before) / elapsed


def raw_insert_rate(database_url: str, plan: Plan) -> float:
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE bench_raw (id bigserial PRIMARY KEY, state bytea NOT NULL)")
    payload = b'{"on": "2000-01-02", "event_id": "%s"}' % uuid.uuid4().hex.encode()

    def work(client: int, stop: threading.Event, counts: list[int]) -> None:
        with psycopg.connect(database_url, autocommit=True) as conn:
            while not stop.is_set():
                conn.execute("INSERT INTO bench_raw (state) VALUES (%s)", (payload,))
                counts[client] += 1

    return measure(work, plan)


async def register_members(app: HumansApplication, count: int) -> list[uuid.UUID]:
    async def member(n: int) -> uuid.UUID:
        human = await app.register(
            f"Bench {n}", f"bench-{n}-{uuid.uuid4().hex[:8]}@trantor.example", HumanKind.EMPLOYEE
        )
        await app.join(human.id, JOINED_ON, "benchmarker")
        return human.id

    return list(await asyncio.gather(*(member(n) for n in range(count))))


async def application_figures(database_url: str, plan: Plan) -> None:
    grouped = build_application(database_url)
    humans = await register_members(grouped, plan.humans)
    days = Days(humans)
    group_rate = await application_rate(grouped, days, plan)
    grouped.close()
    single = build_application(database_url, max_batch=1)
    for human in humans:  # known to it as to the first application
        await single.get_human(human)
    single_rate = await application_rate(single, days, plan)
    single.close()
    raw_rate = raw_insert_rate(database_url, plan)
    print("\n(a) single-event commands through the application layer, 64 clients")
    print(f"  group commit                  {group_rate:9.0f} commands/s")
    print(f"  one transaction per command   {single_rate:9.0f} commands/s")
    print(f"  raw INSERT+COMMIT (psycopg)   {raw_rate:9.0f} rows/s")
    print(
        f"  group commit / one each       {group_rate / single_rate:9.2f}x  "
        f"(target >= {TARGET_GROUP_COMMIT}x)"
    )
    print(f"  group commit / raw insert     {group_rate / raw_rate:9.2f}x", flush=True)


# HTTP: servers as ``hot serve`` runs them ---------------------------------------------


@post("/bare/humans/{human_id:str}/attend", status_code=200, opt={"public": True})
async def bare_attend(human_id: HumanId, data: JSONBody[AttendBody]) -> dict[str, str]:
    return {"id": str(human_id), "on": str(data.on)}


@get("/bare/humans/{human_id:str}", opt={"public": True})
async def bare_human(human_id: HumanId) -> dict[str, str]:
    return {"id": str(human_id), "status": "member"}


def add_bare_routes(api: Litestar) -> None:
    api.register(bare_attend)
    api.register(bare_human)


def worker_app() -> Litestar:
    """Each worker of a ``HOT_WORKERS`` > 1 server: HoT's worker, plus the bare routes."""
    api = hot_serve.worker_app()
    add_bare_routes(api)
    return api


def serve(database_url: str, port: int, workers: int) -> None:
    """The server process: ``hot serve`` on ``database_url`` with its relay, streams under
    a prefix of their own, and the bare routes beside HoT's."""
    os.environ.update(
        HOT_DATABASE_URL=database_url,
        HOT_REDIS_URL=REDIS_URL,
        HOT_REDIS_PREFIX=os.environ.get("HOT_BENCH_PREFIX") or f"hot-bench-{port}",
        HOT_API_KEY_CACHE_SECONDS="60",
    )
    hot_serve.run(
        Settings.from_env(),
        host="127.0.0.1",
        port=port,
        workers=workers,
        worker_app=f"{Path(__file__).stem}:worker_app",
        extend=add_bare_routes,
    )


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    token: str
    humans: list[uuid.UUID]
    days: Days


@contextmanager
def server(
    database_url: str,
    humans: list[uuid.UUID],
    days: Days,
    workers: int,
    prefix: str | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Server]:
    """A server on ``database_url`` (whose members are ``humans``) that has read each once,
    and whose relay has published the log; its streams under ``prefix`` (shared by
    several instances), or under one of its own; ``env``: settings of its own."""
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create(f"bench-{uuid.uuid4().hex[:6]}", ["read", "write"])
    port = free_port()
    prefix = prefix or f"hot-bench-{port}"
    process = subprocess.Popen(
        [sys.executable, __file__, "--serve", database_url, str(port), str(workers)],
        env={**os.environ, **(env or {}), "HOT_BENCH_PREFIX": prefix},
    )
    try:
        wait_for(port, process)
        prime(port, token, humans)
        relay_caught_up(database_url, prefix)
        yield Server(port, process, token, humans, days)
    finally:
        process.terminate()
        process.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"{prefix}:*"):
            client.delete(key)
        client.close()


def relay_caught_up(database_url: str, prefix: str, timeout: float = 120) -> None:
    """Wait until the server's relay has published every event of the log."""
    client = redis.Redis.from_url(REDIS_URL)
    with psycopg.connect(database_url, autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(max(notification_id), 0) FROM hot_events").fetchone()
    head = int(row[0]) if row else 0
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            newest = client.xrevrange(f"{prefix}:events", count=1)
            if newest and int(newest[0][0].split(b"-")[0]) >= head:
                return
            time.sleep(0.1)
    finally:
        client.close()
    raise SystemExit(f"the relay of {prefix} did not publish the log in {timeout} s")


def prime(port: int, token: str, humans: list[uuid.UUID]) -> None:
    """Read every human once, so that the server measures its steady state, where it
    knows the humans it is told about, not the first load of each from PostgreSQL."""

    def read(share: list[uuid.UUID]) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for human in share:
            conn.request("GET", f"/humans/{human}", headers={"Authorization": f"Bearer {token}"})
            response = conn.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"GET /humans/{human}: {response.status}")
        conn.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(read, [humans[k::8] for k in range(8)]))


# wrk ----------------------------------------------------------------------------------

LUA = """
local ids = {%(ids)s}
local n = #ids
local threads_count = %(threads)d
local first_round = %(first_round)d
local day0 = os.time{year=2000, month=1, day=2, hour=12}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
counter = 0  -- global: done() reads each thread's
local next_id = 0
local threads = {}

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    print("requests made by a thread: " .. thread:get("counter"))
  end
end

function request()
  local g = counter * threads_count + tid
  counter = counter + 1
  local human = ids[(g %% n) + 1]
  if "%(method)s" == "GET" then
    return wrk.format("GET", "%(prefix)s/humans/" .. human, headers)
  end
  if "%(method)s" == "TEAM" then  -- an envelope of a team's type, its id new each time
    local id = string.format("%(nonce)s-0000-4000-8000-%%012x", g)
    return wrk.format("POST", "/events", headers, '{"id":"' .. id .. '",' ..
                      '"name":"%(team)s","version":%(team_version)d,"payload":' ..
                      '{"human_id":"' .. human .. '",' .. [[%(team_payload)s]] .. '}}')
  end
  local day = os.date("!%%Y-%%m-%%d", day0 + (first_round + math.floor(g / n)) * 86400)
  if "%(method)s" == "ENVELOPE" then  -- the same attend, as an envelope
    local id = string.format("%(nonce)s-0000-4000-8000-%%012x", g)
    return wrk.format("POST", "/events", headers, '{"id":"' .. id .. '",' ..
                      '"name":"HUMAN_ATTENDED","version":1,"payload":' ..
                      '{"human_id":"' .. human .. '","on":"' .. day .. '"}}')
  end
  return wrk.format("POST", "%(prefix)s/humans/" .. human .. "/attend", headers,
                    '{"on":"' .. day .. '"}')
end
"""
WRK_THREADS = 2


@dataclass
class WrkResult:
    rate: float
    requests: int
    latency: str
    server_cpu_ms: float = 0.0  # the server's CPU time (its processes) per request


def run_wrk(
    target: Server, method: str, prefix: str, seconds: float, connections: int, tmp: Path
) -> WrkResult:
    """One wrk run; a single answer that is not 2xx, or a socket error, ends the benchmark."""
    script = tmp / f"bench-{target.port}.lua"
    script.write_text(
        LUA
        % {
            "ids": ",".join(f'"{h}"' for h in target.humans),
            "threads": WRK_THREADS,
            "first_round": target.days.next_round,
            "token": target.token,
            "prefix": prefix,
            "method": method,
            "nonce": uuid.uuid4().hex[:8],
            "team": TEAM_TYPE,
            "team_version": TEAM_VERSION,
            "team_payload": json.dumps(TEAM_PAYLOAD)[1:-1].replace("%", "%%"),
        }
    )
    cpu_before = cpu_seconds(target.process.pid)
    out = subprocess.run(
        [
            "wrk",
            f"-t{WRK_THREADS}",
            f"-c{connections}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{target.port}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    cpu = cpu_seconds(target.process.pid) - cpu_before
    what = f"{method} {prefix or 'HoT'} on port {target.port}"
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"{what}: {bad.group(1)} answers were not 2xx; the run is void.\n{out}")
    if "Socket errors" in out:
        raise SystemExit(f"{what}: socket errors; the run is void.\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    latency = re.search(r"Latency\s+(\S+)", out)
    if method in ("POST", "ENVELOPE"):  # the threads may make requests at different rates
        made = max(int(n) for n in re.findall(r"requests made by a thread: (\d+)", out))
        target.days.done(made * WRK_THREADS // len(target.humans) + 1)
    return WrkResult(rate, total, latency.group(1) if latency else "?", 1000 * cpu / max(total, 1))


@dataclass(frozen=True)
class Side:
    label: str
    target: Server
    method: str
    prefix: str
    connections: int


def warmed_run(
    target: Server, connections: int, warmup: float, seconds: float, tmp: Path
) -> WrkResult:
    """Attends over ``connections`` for ``seconds``, after ``warmup`` seconds of them."""
    run_wrk(target, "POST", "", warmup, connections, tmp)
    return run_wrk(target, "POST", "", seconds, connections, tmp)


def compare(title: str, baseline: Side, subject: Side, plan: Plan, target: float) -> float:
    """Median ratio subject/baseline over interleaved rounds, after a warm-up of each."""
    print(f"\n{title}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        for side in (baseline, subject):
            run_wrk(side.target, side.method, side.prefix, plan.warmup, side.connections, Path(tmp))
        results: dict[str, list[WrkResult]] = {baseline.label: [], subject.label: []}
        ratios = []
        for _ in range(plan.rounds):
            for side in (baseline, subject):
                results[side.label].append(
                    run_wrk(
                        side.target,
                        side.method,
                        side.prefix,
                        plan.seconds,
                        side.connections,
                        Path(tmp),
                    )
                )
            ratios.append(results[subject.label][-1].rate / results[baseline.label][-1].rate)
    return report(results, ratios, f"{subject.label} / {baseline.label}", target)


def report(
    results: dict[str, list[WrkResult]], ratios: list[float], what: str, target: float | None
) -> float:
    """Print each side's median rate and rounds, and the median ratio against ``target``
    (None: no target, the ratio shown)."""
    for label, runs in results.items():
        rates = [r.rate for r in runs]
        cpu = statistics.median(r.server_cpu_ms for r in runs)
        print(
            f"  {label:34}{statistics.median(rates):9.0f} requests/s median "
            f"(latency {runs[len(runs) // 2].latency}, server CPU {cpu:.2f} ms/request; "
            f"rounds {' '.join(f'{r:.0f}' for r in rates)})"
        )
    ratio = statistics.median(ratios)
    verdict = "" if target is None else "met" if ratio >= target else "MISSED"
    goal = "" if target is None else f"; target >= {target}x: {verdict}"
    print(
        f"  {what}: {ratio:.2f}x median (rounds {' '.join(f'{r:.2f}' for r in ratios)}{goal})",
        flush=True,
    )
    return ratio


def http_figures(
    one: str,
    two: str,
    humans_one: list[uuid.UUID],
    humans_two: list[uuid.UUID],
    plan: Plan,
    workers_only: bool = False,
) -> None:
    days_one = Days(humans_one)
    if workers_only:
        workers_figure(one, two, humans_one, humans_two, days_one, plan)
        return
    with server(one, humans_one, days_one, workers=1) as single:
        compare(
            "(b) POST /humans/{id}/attend, 64 connections (wrk), one worker",
            Side("bare endpoint (validate, 200)", single, "POST", "/bare", CLIENTS),
            Side("HoT attend", single, "POST", "", CLIENTS),
            plan,
            TARGET_HTTP,
        )
        compare(
            "(c) GET /humans/{id}, 64 connections (wrk), one worker",
            Side("bare GET", single, "GET", "/bare", CLIENTS),
            Side("HoT GET", single, "GET", "", CLIENTS),
            plan,
            TARGET_GET,
        )
    workers_figure(one, two, humans_one, humans_two, days_one, plan)


def team_figures(database_url: str, humans: list[uuid.UUID], plan: Plan) -> None:
    """(e): a team's event over HTTP against a built-in attend; validation per event."""
    app = build_application(database_url)
    try:
        asyncio.run(app.register_event_type(TEAM_TYPE, "A standup update.", "bench"))
        asyncio.run(app.add_event_type_version(TEAM_TYPE, TEAM_SCHEMA))
    finally:
        app.close()
    with server(database_url, humans, Days(humans), workers=1) as single:
        team = Side("team event (POST /events)", single, "TEAM", "", CLIENTS)
        compare(
            "(e) POST /events of a team's type against the built-in attend as an envelope "
            "(POST /events), 64 connections (wrk), one worker",
            Side("attend envelope (POST /events)", single, "ENVELOPE", "", CLIENTS),
            team,
            plan,
            TARGET_TEAM,
        )
        compare(
            "(e') the same against POST /humans/{id}/attend (no envelope id to record)",
            Side("HoT attend", single, "POST", "", CLIENTS),
            team,
            plan,
            TARGET_TEAM,
        )
    validator, text = PayloadValidator(TEAM_SCHEMA), json.dumps(TEAM_PAYLOAD)
    check = min(timeit.repeat(lambda: validator.check(TEAM_PAYLOAD), number=20_000, repeat=5))
    parse = min(timeit.repeat(lambda: json.loads(text), number=20_000, repeat=5))
    print(
        f"  validation per event: {check / 20_000 * 1e6:.2f} us "
        f"(json.loads of the payload: {parse / 20_000 * 1e6:.2f} us; "
        f"{check / parse:.2f}x)",
        flush=True,
    )


@contextmanager
def otlp_sink() -> Iterator[str]:
    """An OTLP/HTTP endpoint that answers every export and drops it (a collector's cost is
    not the server's); its URL."""

    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    sink = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    thread = threading.Thread(target=sink.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{sink.server_address[1]}"
    finally:
        sink.shutdown()
        sink.server_close()


def metrics_figures(plan: Plan) -> None:
    """(f): what metrics cost a command over HTTP, and what traces cost beside them.

    One server up at a time, like (d): PostgreSQL's 100 connections are shared with
    whatever else runs on the machine. Each round starts each server anew, in turn, on a
    database of its own."""
    print(
        f"\n(f) POST /humans/{{id}}/attend, {CLIENTS} connections (wrk), one worker: metrics "
        "on against HOT_METRICS=off, and traces on too (every request sampled, exported "
        "over OTLP/HTTP to a receiver that drops them), and traces on with 1 request in "
        "100 sampled, against metrics on alone; a new server each round",
        flush=True,
    )
    with (
        fresh_database() as off_db,
        fresh_database() as on_db,
        fresh_database() as traced_db,
        fresh_database() as sampled_db,
        otlp_sink() as endpoint,
    ):
        traces_env = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_SERVICE_NAME": "hot-bench",
        }
        sampled_env = {
            **traces_env,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.01",
        }
        sides = {
            "HOT_METRICS=off": (off_db, {"HOT_METRICS": "off"}),
            "metrics on": (on_db, {}),
            "metrics and traces on": (traced_db, traces_env),
            "traces on, 1 in 100 sampled": (sampled_db, sampled_env),
        }
        humans = {label: members(url, plan.humans) for label, (url, _) in sides.items()}
        days = {label: Days(humans[label]) for label in sides}
        results: dict[str, list[WrkResult]] = {label: [] for label in sides}
        with tempfile.TemporaryDirectory() as tmp:
            for _ in range(METRICS_ROUNDS_PER_ROUND * plan.rounds - 1):
                for label, (url, env) in sides.items():
                    with server(url, humans[label], days[label], 1, env) as target:
                        results[label].append(
                            warmed_run(target, CLIENTS, plan.warmup, plan.seconds, Path(tmp))
                        )
    off, on, traced, sampled = results.values()
    report(
        {"HOT_METRICS=off": off, "metrics on": on},
        [b.rate / a.rate for a, b in zip(off, on, strict=True)],
        "metrics on / off",
        TARGET_METRICS,
    )
    report(
        {"metrics and traces on": traced},
        [b.rate / a.rate for a, b in zip(on, traced, strict=True)],
        "traces on too / metrics on",
        TARGET_TRACES,
    )
    report(
        {"traces on, 1 in 100 sampled": sampled},
        [b.rate / a.rate for a, b in zip(on, sampled, strict=True)],
        "traces on, 1 in 100 sampled / metrics on",
        TARGET_TRACES,
    )


def workers_figure(
    one: str,
    two: str,
    humans_one: list[uuid.UUID],
    humans_two: list[uuid.UUID],
    days_one: Days,
    plan: Plan,
) -> None:
    """(d): one server up at a time (two at once would hold more connections than
    PostgreSQL's default 100 allows), each round a new start of each, alternating, each
    warmed up ``WORKERS_WARMUP`` times as long as the others."""
    print(
        f"\n(d) POST /humans/{{id}}/attend, {WORKERS_CONNECTIONS} connections over "
        f"{plan.humans} humans: HOT_WORKERS=2 against 1 (a new server each round)",
        flush=True,
    )
    days_two = Days(humans_two)
    warmup = plan.warmup * WORKERS_WARMUP
    results: dict[int, list[WrkResult]] = {1: [], 2: []}
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(plan.rounds):
            for workers, url, humans, days in (
                (1, one, humans_one, days_one),
                (2, two, humans_two, days_two),
            ):
                with server(url, humans, days, workers=workers) as target:
                    results[workers].append(
                        warmed_run(target, WORKERS_CONNECTIONS, warmup, plan.seconds, Path(tmp))
                    )
            ratios.append(results[2][-1].rate / results[1][-1].rate)
    labelled = {f"HOT_WORKERS={workers}": runs for workers, runs in results.items()}
    report(labelled, ratios, "two workers / one", TARGET_WORKERS)


def instances_figure(
    one: str,
    two: str,
    humans_one: list[uuid.UUID],
    humans_two: list[uuid.UUID],
    days_one: Days,
    plan: Plan,
) -> None:
    """(g): two ``hot serve`` instances of one worker each, on one database and one stream
    prefix (as behind a load balancer: one wrk each, half the connections and half the
    humans each), against one instance with all of them; a new start of each every round."""
    print(
        f"\n(g) POST /humans/{{id}}/attend, {WORKERS_CONNECTIONS} connections over "
        f"{plan.humans} humans: two instances against one (a new start each round)",
        flush=True,
    )
    halves = [humans_two[0::2], humans_two[1::2]]
    days_two = [Days(half) for half in halves]
    warmup, half = plan.warmup * WORKERS_WARMUP, WORKERS_CONNECTIONS // 2
    results: dict[str, list[WrkResult]] = {"one instance": [], "two instances": []}
    ratios = []
    with tempfile.TemporaryDirectory() as tmp:

        def measured(target: Server, connections: int) -> WrkResult:
            return warmed_run(target, connections, warmup, plan.seconds, Path(tmp))

        for _ in range(plan.rounds):
            with server(one, humans_one, days_one, workers=1) as single:
                results["one instance"].append(measured(single, WORKERS_CONNECTIONS))
            prefix = f"hot-bench-instances-{uuid.uuid4().hex[:6]}"
            with (
                server(two, halves[0], days_two[0], workers=1, prefix=prefix) as a,
                server(two, halves[1], days_two[1], workers=1, prefix=prefix) as b,
                ThreadPoolExecutor(2) as pool,
            ):  # both warmed up, then measured, at the same time
                runs = list(pool.map(measured, [a, b], [half, half]))
            total = sum(r.requests for r in runs)
            cpu = sum(r.server_cpu_ms * r.requests for r in runs) / max(total, 1)
            results["two instances"].append(
                WrkResult(sum(r.rate for r in runs), total, runs[0].latency, cpu)
            )
            ratios.append(results["two instances"][-1].rate / results["one instance"][-1].rate)
    report(results, ratios, "two instances / one", TARGET_WORKERS)


# The run ----------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """User and system CPU time of the process and of its children that are alive (Linux)."""
    total = 0.0
    for each in (pid, *children(pid)):
        try:
            fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        for child in map(int, text):
            found += [child, *children(child)]
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60) -> None:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up and process.poll() is None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/health/live")
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer on port {port}")


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"hot_bench_{uuid.uuid4().hex[:10]}"
    url = create_database(SERVER_URL, name)
    try:
        yield url
    finally:
        drop_database(SERVER_URL, name)


def members(database_url: str, count: int) -> list[uuid.UUID]:
    app = build_application(database_url)
    try:
        return asyncio.run(register_members(app, count))
    finally:
        app.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument(
        "--only",
        choices=["a", "http", "d", "team", "metrics", "instances"],
        help="one part only (http: b, c and d; team: e; metrics: f; instances: g)",
    )
    parser.add_argument(
        "--serve", nargs=3, metavar=("DATABASE_URL", "PORT", "WORKERS"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]), int(args.serve[2]))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for the HTTP parts: apt-get install -y wrk")
    plan = QUICK if args.quick else FULL
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(
        f"{os.cpu_count()} CPUs, load average {load}; {plan.seconds:.0f} s a run after "
        f"{plan.warmup:.0f} s of warm-up, {plan.rounds} rounds, {plan.humans} humans"
    )
    if args.only in (None, "a"):
        with fresh_database() as database_url:
            asyncio.run(application_figures(database_url, plan))
    if args.only in (None, "team"):
        with fresh_database() as database_url:
            team_figures(database_url, members(database_url, plan.humans), plan)
    if args.only in (None, "http", "d"):
        with fresh_database() as one, fresh_database() as two:
            humans_one, humans_two = members(one, plan.humans), members(two, plan.humans)
            http_figures(one, two, humans_one, humans_two, plan, workers_only=args.only == "d")
    if args.only in (None, "metrics"):
        metrics_figures(plan)
    if args.only in (None, "instances"):
        with fresh_database() as one, fresh_database() as two:
            humans_one, humans_two = members(one, plan.humans), members(two, plan.humans)
            instances_figure(one, two, humans_one, humans_two, Days(humans_one), plan)


if __name__ == "__main__":
    main()
