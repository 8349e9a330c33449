"""A real Redis Cluster on loopback for the tests: 3 masters, each with a replica.

Six ``redis-server --cluster-enabled yes`` processes on free ports (each with its
cluster bus on port + 10000), joined by ``redis-cli --cluster create``. A short
``cluster-node-timeout`` makes a failover take a couple of seconds. A test kills a
node (SIGKILL), cuts a replica off its master, and asks which master holds a key.
The ``redis_cluster`` fixture starts one and kills every process afterwards.
"""

from __future__ import annotations

import random
import signal
import socket
import subprocess
from pathlib import Path
from typing import Any

import redis

from tests.waiting import wait_until

NODES = 6
NODE_TIMEOUT_MS = 1000
BUS_OFFSET = 10000  # a node's cluster bus port is its port + 10000


class RedisClusterServers:
    """Six nodes of a new cluster, with their data under ``data_dir``."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.ports = _free_ports(NODES)
        self.processes: dict[int, subprocess.Popen[bytes]] = {}

    def start(self) -> None:
        """Start the nodes, join them as 3 masters with a replica each, wait until ok."""
        for port in self.ports:
            node_dir = self.data_dir / str(port)
            node_dir.mkdir(parents=True)
            self.processes[port] = subprocess.Popen(
                [
                    "redis-server",
                    "--port",
                    str(port),
                    "--bind",
                    "127.0.0.1",
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    f"nodes-{port}.conf",
                    "--cluster-node-timeout",
                    str(NODE_TIMEOUT_MS),
                    "--dir",
                    str(node_dir),
                    "--daemonize",
                    "no",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--repl-diskless-sync-delay",
                    "0",  # a replica's first copy at once, not after 5 s
                    "--logfile",
                    str(node_dir / "redis.log"),
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.STDOUT,
            )
        for port in self.ports:
            wait_until(lambda port=port: self._answers(port), 15, f"redis node {port} answers")
        created = subprocess.run(
            [
                "redis-cli",
                "--cluster",
                "create",
                *(f"127.0.0.1:{port}" for port in self.ports),
                "--cluster-replicas",
                "1",
                "--cluster-yes",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stdout + created.stderr
        self.wait_ok()
        wait_until(self._replicas_copying, 30, "every replica copies its master")

    def url(self, port: int | None = None) -> str:
        """The URL of a node (the first, unless ``port``): what ``HOT_REDIS_URL`` names."""
        return f"redis://127.0.0.1:{port or self.ports[0]}/0"

    def alive(self) -> list[int]:
        """The ports of the nodes whose process runs."""
        return [port for port, process in self.processes.items() if process.poll() is None]

    def cli(self, port: int, *args: str) -> str:
        """A command to one node, through ``redis-cli``: its answer."""
        done = subprocess.run(
            ["redis-cli", "-p", str(port), *args], capture_output=True, text=True, timeout=10
        )
        return done.stdout

    def wait_ok(self, timeout: float = 30) -> None:
        """Wait until every running node says ``cluster_state:ok`` and knows every slot's
        master among the running nodes."""

        def ok(port: int) -> bool:
            return "cluster_state:ok" in self.cli(port, "cluster", "info")

        def all_ok() -> bool:
            running = self.alive()
            return all(ok(port) for port in running) and all(
                self.master_port(port, slot) in running for port in running for slot in (0, 16383)
            )

        wait_until(all_ok, timeout, "the Redis Cluster is ok")

    def master_of(self, key: str) -> int:
        """The port of the master that holds ``key``'s slot, as a running node sees it."""
        asked = self.alive()[0]
        slot = int(self.cli(asked, "cluster", "keyslot", key))
        return self.master_port(asked, slot)

    def replica_of(self, master: int) -> int:
        """The port of the replica of the master on port ``master``."""
        for line in self.cli(master, "cluster", "nodes").splitlines():
            fields = line.split()
            if "slave" in fields[2] and fields[3] == self._node_id(master):
                return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        raise AssertionError(f"the master on {master} has no replica")

    def master_port(self, asked: int, slot: int) -> int:
        """The port of the master of ``slot`` as the node on port ``asked`` sees it (0 if
        it names none)."""
        for line in self.cli(asked, "cluster", "nodes").splitlines():
            fields = line.split()
            if "master" not in fields[2] or "fail" in fields[2]:
                continue
            for span in fields[8:]:
                low, _, high = span.partition("-")
                if low.isdigit() and int(low) <= slot <= int(high or low):
                    return int(fields[1].split("@")[0].rsplit(":", 1)[1])
        return 0

    def kill(self, port: int) -> None:
        """SIGKILL the node on ``port``, and wait until it is gone."""
        self.processes[port].send_signal(signal.SIGKILL)
        self.processes[port].wait(10)

    def cut_replication(self, replica: int, key: str) -> int:
        """Have the replica on port ``replica`` copy its master no more (it now fails to
        authenticate to it, and its link is cut); the last position of stream ``key`` it
        holds then. It still counts as the master's replica, ready to take over."""
        self.cli(replica, "config", "set", "masterauth", "not-the-password")
        self.cli(replica, "client", "kill", "type", "master")
        wait_until(
            lambda: "master_link_status:down" in self.cli(replica, "info", "replication"),
            10,
            f"the replica on {replica} stopped copying",
        )
        return self.last_id(replica, key)

    def last_id(self, port: int, key: str) -> int:
        """The last position of stream ``key`` on the node on ``port`` (a replica too)."""
        node = redis.Redis(port=port, single_connection_client=True)
        try:
            node.execute_command("READONLY")
            info: Any = node.xinfo_stream(key)
            return int(info["last-generated-id"].decode().split("-")[0])
        finally:
            node.close()

    def stop(self) -> None:
        """Kill every node still running."""
        for process in self.processes.values():
            if process.poll() is None:
                process.kill()
                process.wait(10)

    def _replicas_copying(self) -> bool:
        """Whether three nodes are replicas whose link to their master is up (their
        first copy made: only then may one take over)."""
        replication = [self.cli(port, "info", "replication") for port in self.ports]
        copying = [r for r in replication if "role:slave" in r and "master_link_status:up" in r]
        return len(copying) == NODES // 2

    def _node_id(self, port: int) -> str:
        return self.cli(port, "cluster", "myid").strip()

    def _answers(self, port: int) -> bool:
        return self.cli(port, "ping").strip() == "PONG"


def _free_ports(count: int) -> list[int]:
    """``count`` ports below 55535 free on loopback, each with its bus port free too."""
    found: list[int] = []
    while len(found) < count:
        port = random.randrange(20000, 45000)
        if port not in found and _free(port) and _free(port + BUS_OFFSET):
            found.append(port)
    return found


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def cluster_env(cluster: RedisClusterServers, prefix: str, **more: Any) -> dict[str, str]:
    """The settings of a ``hot`` command on the cluster."""
    return {
        "HOT_REDIS_URL": cluster.url(),
        "HOT_REDIS_CLUSTER": "on",
        "HOT_REDIS_PREFIX": prefix,
        **{k: str(v) for k, v in more.items()},
    }
