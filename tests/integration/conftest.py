"""Fixtures shared by the integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis


@pytest.fixture
def client(redis_server_url: str) -> Iterator[redis.Redis]:
    """A Redis client on the test server (relay tests read the streams with it)."""
    client = redis.Redis.from_url(redis_server_url)
    yield client
    client.close()
