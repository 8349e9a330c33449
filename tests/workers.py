"""A ``hot serve`` of several workers, as tests talk to it: kept-alive connections, and
which worker process accepted each (found through /proc)."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from hot.infra.api_keys import ApiKeyStore
from tests.processes import HotProcess, Processes
from tests.serving import free_port
from tests.waiting import wait_until


@contextlib.contextmanager
def two_workers(
    database_url: str, processes: Processes, key_name: str
) -> Iterator[tuple[HotProcess, int, str]]:
    """``hot serve`` with two workers: the process, its port and an admin token."""
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create(key_name, ["admin"])
    port = free_port()
    process = processes.hot(["serve", "--port", str(port)], HOT_WORKERS="2").start()
    wait_until(lambda: answers(port), 60, "hot serve answers")
    yield process, port, token
    assert process.terminate(30) == 0, process.output()


def answers(port: int) -> bool:
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/health/live")
        return conn.getresponse().status == 200
    except OSError:
        return False


class Connection:
    """One kept-alive HTTP connection to the server."""

    def __init__(self, port: int, token: str) -> None:
        self.http = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self.call("GET", "/health/live")

    def call(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        data = None if body is None else json.dumps(body)
        self.http.request(method, path, body=data, headers={**self.headers, **(headers or {})})
        response = self.http.getresponse()
        text = response.read()
        return response.status, json.loads(text) if text else None


def worker_holding(server_pid: int, server_port: int, client_port: int) -> int:
    """The pid of the worker process whose socket is the server's end of the connection
    from ``client_port`` (found through /proc: the socket's inode, then its owner)."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local, remote = fields[1], fields[2]
            if (
                int(local.rsplit(":", 1)[1], 16) == server_port
                and int(remote.rsplit(":", 1)[1], 16) == client_port
            ):
                inode = fields[9]
    assert inode is not None, "the server's end of the connection is not in /proc/net"
    for worker in children(server_pid):
        for fd in Path(f"/proc/{worker}/fd").iterdir():
            try:
                if fd.readlink().name == f"socket:[{inode}]":
                    return worker
            except OSError:
                continue
    raise AssertionError("no worker holds the connection")


def children(pid: int) -> list[int]:
    return [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in (task / "children").read_text().split()
    ]


class WorkerConnection(Connection):
    """A connection, and the worker process of a several-worker server that accepted it."""

    def __init__(self, port: int, token: str, server_pid: int) -> None:
        super().__init__(port, token)
        self.worker = worker_holding(server_pid, port, self.http.sock.getsockname()[1])


def one_per_worker(port: int, token: str, server_pid: int) -> list[WorkerConnection]:
    """A connection accepted by each of the two workers (new ones until both are seen)."""
    by_worker: dict[int, WorkerConnection] = {}
    for _ in range(200):
        connection = WorkerConnection(port, token, server_pid)
        by_worker.setdefault(connection.worker, connection)
        if len(by_worker) == 2:
            return list(by_worker.values())
    raise AssertionError("one worker accepted 200 connections in a row: is the other serving?")
