"""Benchmark of the command path, against a baseline and the bare minimum, in one run.

(a) 64 client threads of single-event commands (``attend`` on many humans) through
    the application layer with group commit, against one ``eventsourcing`` save per
    command (``group_commit=False``), against raw single-row INSERT+COMMIT with psycopg
    at the same concurrency.
(b) ``POST /humans/{id}/attend`` over HTTP with 64 connections (wrk), against a bare
    Litestar endpoint on the same server that validates the same body and returns 200.

    uv run python bench/api_bench.py [--quick]

Needs ``wrk`` (``apt-get install -y wrk``). Uses HOT_BENCH_DATABASE_URL and
HOT_BENCH_REDIS_URL (default: the local servers); creates and drops a database of its
own, and deletes its own Redis keys. ``HOT_STREAM_WRITE_THROUGH=off`` measures (b)
without the write-through.
"""

from __future__ import annotations

import argparse
import gc
import http.client
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import psycopg
import redis
import uvicorn
from litestar import post
from litestar.params import JSONBody

from hot.api import create_app
from hot.api.models import AttendBody
from hot.api.params import HumanId
from hot.application import HumansApplication
from hot.cli.serve import UVICORN_OPTIONS, tune_runtime
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import build_application, write_through
from hot.infra.database import create_database, drop_database
from hot.infra.relay import Relay
from hot.infra.relay.source import EventLog
from hot.infra.settings import Settings

SERVER_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
CLIENTS = 64
JOINED_ON = date(2000, 1, 1)
TARGET_GROUP_COMMIT = 4.0
TARGET_HTTP = 0.5


@dataclass
class Plan:
    humans: int
    seconds: float
    warmup: float


FULL = Plan(humans=2048, seconds=10.0, warmup=2.0)
QUICK = Plan(humans=512, seconds=3.0, warmup=1.0)


# (a) The application layer ----------------------------------------------------------


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


def application_rate(app: HumansApplication, days: Days, plan: Plan) -> float:
    most_rounds = [0] * CLIENTS

    def work(client: int, stop: threading.Event, counts: list[int]) -> None:
        mine = len(days.humans[client::CLIENTS])
        for n, (human, day) in enumerate(days.rounds(client)):
            if stop.is_set():
                most_rounds[client] = n // max(mine, 1) + 1
                return
            app.attend(human, day)
            counts[client] += 1

    rate = measure(work, plan)
    days.done(max(most_rounds))
    return rate


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


def register_members(app: HumansApplication, count: int) -> list[uuid.UUID]:
    def member(n: int) -> uuid.UUID:
        human = app.register(
            f"Bench {n}", f"bench-{n}-{uuid.uuid4().hex[:8]}@trantor.example", HumanKind.EMPLOYEE
        )
        app.join(human.id, JOINED_ON, "benchmarker")
        return human.id

    with ThreadPoolExecutor(CLIENTS) as pool:
        return list(pool.map(member, range(count)))


# (b) HTTP ---------------------------------------------------------------------------


def serve(database_url: str, port: int) -> None:
    """The server process: HoT's API plus a bare endpoint, under uvicorn (one worker),
    with the settings of ``hot serve`` as the compose file runs it (its relay elsewhere):
    writing through (unless ``HOT_STREAM_WRITE_THROUGH=off``) to Redis streams under a
    prefix of its own, which ``caught_up_streams`` brought to the log's head first, so
    that every commit comes next there and is published by the command that made it."""

    @post("/bare/humans/{human_id:str}/attend", status_code=200, opt={"public": True})
    async def bare_attend(human_id: HumanId, data: JSONBody[AttendBody]) -> dict[str, str]:
        return {"id": str(human_id), "on": str(data.on)}

    app = build_application(database_url)
    if Settings.from_env().write_through:
        write_through(app, REDIS_URL, prefix=f"hot-bench-{port}", personal=False)
    api = create_app(app, ApiKeyStore(database_url, cache_seconds=60))
    api.register(bare_attend)
    tune_runtime()  # as `hot serve` runs it
    uvicorn.run(
        api, **{**UVICORN_OPTIONS, "host": "127.0.0.1", "port": port, "log_level": "warning"}
    )


LUA = """
local ids = {%(ids)s}
local n = #ids
local threads_count = %(threads)d
local first_round = %(first_round)d
local day0 = os.time{year=2000, month=1, day=2, hour=12}
local headers = {["Content-Type"] = "application/json", ["Authorization"] = "Bearer %(token)s"}
local counter = 0
local next_id = 0

function setup(thread)
  thread:set("tid", next_id)
  next_id = next_id + 1
end

function request()
  local g = counter * threads_count + tid
  counter = counter + 1
  local human = ids[(g %% n) + 1]
  local day = os.date("!%%Y-%%m-%%d", day0 + (first_round + math.floor(g / n)) * 86400)
  return wrk.format("POST", "%(prefix)s/humans/" .. human .. "/attend", headers,
                    '{"on":"' .. day .. '"}')
end
"""


@dataclass
class WrkResult:
    rate: float
    errors: int
    requests: int
    latency: str
    server_cpu_ms: float = 0.0  # the server process's CPU time per request


def run_wrk(port: int, script: Path, seconds: float) -> WrkResult:
    out = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{CLIENTS}",
            f"-d{max(1, round(seconds))}s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    total = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    return WrkResult(
        rate, int(errors.group(1)) if errors else 0, total, latency.group(1) if latency else "?"
    )


class Wrk:
    """Runs wrk against one server, never sending the same (human, day) twice."""

    def __init__(
        self, port: int, server_pid: int, token: str, humans: list[uuid.UUID], days: Days, tmp: Path
    ):
        self.port, self.server_pid, self.token = port, server_pid, token
        self.humans, self.days, self.tmp = humans, days, tmp

    def run(self, prefix: str, seconds: float) -> WrkResult:
        script = self.tmp / "attend.lua"
        ids = ",".join(f'"{h}"' for h in self.humans)
        first_round = self.days.next_round
        script.write_text(
            LUA
            % {
                "ids": ids,
                "threads": 2,
                "first_round": first_round,
                "token": self.token,
                "prefix": prefix,
            }
        )
        cpu_before = cpu_seconds(self.server_pid)
        result = run_wrk(self.port, script, seconds)
        cpu = cpu_seconds(self.server_pid) - cpu_before
        result.server_cpu_ms = 1000 * cpu / max(result.requests, 1)
        self.days.done(result.requests // len(self.humans) + 1)
        return result


def http_rates(
    database_url: str, humans: list[uuid.UUID], days: Days, plan: Plan
) -> tuple[WrkResult, WrkResult]:
    """The best of two alternating runs each, after a warm-up of each."""
    token = ApiKeyStore(database_url).create("bench", ["read", "write"])
    port = free_port()
    server = subprocess.Popen([sys.executable, __file__, "--serve", database_url, str(port)])
    try:
        wait_for(port, server)
        prime(port, token, humans)
        caught_up_streams(database_url, f"hot-bench-{port}")
        with tempfile.TemporaryDirectory() as tmp:
            wrk = Wrk(port, server.pid, token, humans, days, Path(tmp))
            for prefix in ("/bare", ""):
                wrk.run(prefix, plan.warmup)
            runs: dict[str, list[WrkResult]] = {"/bare": [], "": []}
            for _ in range(2):
                for prefix, results in runs.items():
                    results.append(wrk.run(prefix, plan.seconds))
            best = {p: max(r, key=lambda w: w.rate) for p, r in runs.items()}
            through = "on" if Settings.from_env().write_through else "off"
            at_head = streams_at_head(database_url, f"hot-bench-{port}")
            print(f"\n(b) ran with the write-through {through} and no relay: {at_head}")
            print("    (the write-through steps aside while commands wait for a transaction)")
            return best["/bare"], best[""]
    finally:
        server.terminate()
        server.wait(timeout=30)
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"hot-bench-{port}:*"):
            client.delete(key)
        client.close()


def caught_up_streams(database_url: str, prefix: str) -> None:
    """Publish the log so far into the streams under ``prefix``, with a relay of its own."""
    app = build_application(database_url)
    head = EventLog(app).head()
    relay = Relay(app, redis.Redis.from_url(REDIS_URL), database_url, prefix=prefix).start()
    while relay.status().published < head:
        time.sleep(0.05)
    relay.stop()
    app.close()


def streams_at_head(database_url: str, prefix: str) -> str:
    """Whether the all-events stream ends where the log does (every command written
    through, when the write-through is on)."""
    app = build_application(database_url)
    head = EventLog(app).head()
    app.close()
    client = redis.Redis.from_url(REDIS_URL)
    newest = client.xrevrange(f"{prefix}:events", count=1)
    client.close()
    stands = int(newest[0][0].split(b"-")[0]) if newest else 0
    return f"streams at {stands:,}, the log's head at {head:,}"


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


def cpu_seconds(pid: int) -> float:
    """User and system CPU time the process has used (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up and server.poll() is None:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not listen on port {port}")


# The run ----------------------------------------------------------------------------


@contextmanager
def fresh_database() -> Iterator[str]:
    name = f"hot_bench_{uuid.uuid4().hex[:10]}"
    url = create_database(SERVER_URL, name)
    try:
        yield url
    finally:
        drop_database(SERVER_URL, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a short run")
    parser.add_argument(
        "--serve", nargs=2, metavar=("DATABASE_URL", "PORT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], int(args.serve[1]))
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is needed for part (b): apt-get install -y wrk")
    plan = QUICK if args.quick else FULL
    with fresh_database() as database_url:
        report(database_url, plan)


def report(database_url: str, plan: Plan) -> None:
    print(
        f"{CLIENTS} clients, {plan.seconds:.0f} s measured after {plan.warmup:.0f} s warm-up, "
        f"{plan.humans} humans, 2 cores"
    )
    grouped = build_application(database_url)
    humans = register_members(grouped, plan.humans)
    days = Days(humans)
    group_rate = application_rate(grouped, days, plan)
    grouped.close()
    gc.collect()  # closes the connections the finished threads left behind
    single = build_application(database_url, group_commit=False)
    # Known to it as to the first application, loaded from this one thread: otherwise
    # each of the 64 threads opens a connection of its own to read the humans' keys,
    # beside the pool's, and PostgreSQL runs out of connections.
    single.personal_keys.prefetch(humans)
    for human in humans:
        single.get_human(human)
    single_rate = application_rate(single, days, plan)
    single.close()
    gc.collect()
    raw_rate = raw_insert_rate(database_url, plan)
    print("\n(a) single-event commands through the application layer")
    print(f"  group commit                  {group_rate:9.0f} commands/s")
    print(f"  one save per command          {single_rate:9.0f} commands/s")
    print(f"  raw INSERT+COMMIT (psycopg)   {raw_rate:9.0f} rows/s")
    print(
        f"  group commit / one save       {group_rate / single_rate:9.2f}x  "
        f"(target >= {TARGET_GROUP_COMMIT}x)"
    )
    print(f"  group commit / raw insert     {group_rate / raw_rate:9.2f}x")

    bare, hot = http_rates(database_url, humans, days, plan)
    print("\n(b) POST /humans/{id}/attend over HTTP, 64 connections (wrk)")
    for label, result in (("bare endpoint (validate, 200)", bare), ("HoT command", hot)):
        print(
            f"  {label:30}{result.rate:9.0f} requests/s  (avg latency {result.latency}, "
            f"server CPU {result.server_cpu_ms:.2f} ms/request, "
            f"{result.errors} of {result.requests} not 2xx)"
        )
    print(
        f"  HoT / bare                    {hot.rate / bare.rate:9.2f}x  (target >= {TARGET_HTTP}x)"
    )


if __name__ == "__main__":
    main()
