"""``hot serve`` with ``HOT_WORKERS=2``: each worker counts what it answered into its own
files, and a scrape of either worker adds up both; the relay, run by the parent,
shows in them too."""

from __future__ import annotations

import http.client
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from prometheus_client.multiprocess import MultiProcessCollector

from tests.processes import HotProcess, Processes
from tests.promtool import check_metrics, value
from tests.waiting import wait_until
from tests.workers import Connection, children, one_per_worker, two_workers

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

ATTENDS_EACH, REFUSED_EACH = 5, 2


@pytest.fixture
def server(database_url: str, processes: Processes) -> Iterator[tuple[HotProcess, int, str]]:
    """``hot serve`` with two workers: the process, its port and an admin token."""
    with two_workers(database_url, processes, "metrics") as running:
        yield running


def scrape(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)  # a new connection
    conn.request("GET", "/metrics")
    response = conn.getresponse()
    assert response.status == 200
    return response.read().decode()


def attends_by_worker(directory: Path, pid: int) -> float:
    """What the worker ``pid`` itself counted (its own file only)."""
    files = [str(directory / f"counter_{pid}.db")]
    for metric in MultiProcessCollector.merge(files, accumulate=True):
        for sample in metric.samples:
            if sample.name == "hot_commands_total" and sample.labels.get("outcome") == "accepted":
                return float(sample.value)
    return 0.0


def test_a_scrape_of_either_worker_adds_up_both(server: tuple[HotProcess, int, str]) -> None:
    process, port, token = server
    workers = one_per_worker(port, token, process.process.pid)
    for connection in workers:
        human = register_member(connection)
        days = [f"2021-04-{day:02d}" for day in range(1, ATTENDS_EACH + 1)]
        for day in days:
            assert connection.call("POST", f"/humans/{human}/attend", {"on": day})[0] == 200
        for day in days[:REFUSED_EACH]:
            assert connection.call("POST", f"/humans/{human}/attend", {"on": day})[0] == 409

    for _ in range(6):  # new connections: either worker may answer, each adds up both
        text = scrape(port)
        assert value(text, "hot_commands_total", command="attend", outcome="accepted") == 2 * (
            ATTENDS_EACH
        )
        assert value(text, "hot_commands_total", command="attend", outcome="refused") == 2 * (
            REFUSED_EACH
        )
    directory = metrics_directory(process.process.pid)
    # Both workers counted some themselves: the scrape added them up.
    assert [attends_by_worker(directory, c.worker) > 0 for c in workers] == [True, True]
    wait_until(lambda: value(scrape(port), "hot_relay_leader") == 1, 30, "the parent's relay shows")
    check_metrics(scrape(port))


def register_member(connection: Connection) -> str:
    status, human = connection.call(
        "POST",
        "/humans",
        {"name": "W", "email": f"{os.urandom(6).hex()}@t.example", "kind": "guest"},
    )
    assert status == 201
    human_id = str(human["id"])
    path = f"/humans/{human_id}/join"
    assert connection.call("POST", path, {"on": "2020-01-01", "role": "x"})[0] == 200
    return human_id


def metrics_directory(server_pid: int) -> Path:
    """The fresh directory ``hot serve`` gave its workers (in their environment)."""
    for worker in children(server_pid):
        environ = Path(f"/proc/{worker}/environ").read_bytes().split(b"\0")
        for entry in environ:
            if entry.startswith(b"PROMETHEUS_MULTIPROC_DIR="):
                return Path(entry.split(b"=", 1)[1].decode())
    raise AssertionError("no worker has PROMETHEUS_MULTIPROC_DIR")
