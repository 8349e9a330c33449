"""Fixtures shared by the integration tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis
from click.testing import CliRunner

from hot.cli import main
from hot.infra.sql_read.access import ReaderNotFoundError, revoke_reader


@pytest.fixture
def client(redis_server_url: str) -> Iterator[redis.Redis]:
    """A Redis client on the test server (relay tests read the streams with it)."""
    client = redis.Redis.from_url(redis_server_url)
    yield client
    client.close()


@pytest.fixture
def sql_reader(database_url: str, tmp_path: Path) -> Iterator[SqlReader]:
    """A SQL reader of the test's database, made by ``hot sql-access create`` (roles are the
    cluster's: its name is the test's own), revoked afterwards."""
    env = {"HOT_DATABASE_URL": database_url, "HOT_DATA_DIR": str(tmp_path)}
    name = f"reader_{uuid.uuid4().hex[:12]}"
    created = CliRunner().invoke(main, ["sql-access", "create", name], env=env)
    assert created.exit_code == 0, created.output
    yield SqlReader(name, created.output.strip(), env)
    with contextlib.suppress(ReaderNotFoundError):  # the test may have revoked it
        revoke_reader(database_url, name)


@dataclass(frozen=True)
class SqlReader:
    """A reader's role name, the URL it connects with, and the environment of ``hot``."""

    name: str
    url: str
    env: dict[str, str]
