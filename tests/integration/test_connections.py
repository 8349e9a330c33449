"""Every pool and connection HoT opens is closed by whoever owns it.

Counted where the servers see them: PostgreSQL's ``pg_stat_activity`` of the test's
own database (by ``application_name``) and Redis's ``CLIENT LIST`` (by client name),
before and after ``close()``. See the table in ``hot.infra.bootstrap``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

import pytest
from litestar.testing import TestClient

from hot.cli.serve import build_api
from hot.domain import HumanKind
from hot.infra import api_keys, personal_keys
from hot.infra.api_keys import ApiKeyStore, Scope
from hot.infra.bootstrap import REDIS_CLIENT_NAME, WRITE_THROUGH_CLIENT_NAME, Hot, bootstrap
from hot.infra.personal_keys import PostgresPersonalKeyStore
from hot.infra.settings import Settings
from hot.tuning import API_KEY_CONNECTIONS, PERSONAL_KEY_CONNECTIONS
from tests.activity import connections, redis_clients, wait_closed
from tests.blocking import blocking_application
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres


def test_the_personal_key_store_closes_its_pool_and_its_listening_connection(
    database_url: str,
) -> None:
    assert connections(database_url) == 0  # a fresh database: nobody else connects
    store = PostgresPersonalKeyStore(database_url, cache_seconds=0)
    try:
        human = uuid.uuid4()
        key = store.key_for_writing(human, create=True)
        with ThreadPoolExecutor(8) as threads:  # more threads than the pool has connections
            read = list(threads.map(lambda _: store.key_for_reading(human), range(64)))

        assert read == [key] * 64
        pooled = connections(database_url, personal_keys.POOL_NAME)
        assert 1 <= pooled <= PERSONAL_KEY_CONNECTIONS
        assert connections(database_url, personal_keys.LISTENER_NAME) == 1
    finally:
        store.close()
    wait_closed(database_url)


def test_the_api_key_store_closes_its_pool(database_url: str) -> None:
    assert connections(database_url) == 0
    with ApiKeyStore(database_url, cache_seconds=0) as store:
        token = store.create("counted", [Scope.READ])
        with ThreadPoolExecutor(8) as threads:  # every verification queries: no cache
            verified = list(threads.map(lambda _: store.verify(token), range(64)))

        assert verified == [frozenset({Scope.READ})] * 64
        assert 1 <= connections(database_url, api_keys.POOL_NAME) <= API_KEY_CONNECTIONS
    wait_closed(database_url)


def test_an_application_closes_every_connection_it_opened(database_url: str) -> None:
    """The events pool (the writer is one of its connections), the key store's pool and
    its listening connection: all closed by ``app.close()``."""
    assert connections(database_url) == 0
    app = blocking_application(database_url)
    human = app.register("Gaal Dornick", "gaal@synnax.test", HumanKind.EMPLOYEE)
    app.join(human.id, date(2020, 1, 1), "mathematician")

    assert connections(database_url) >= 3
    app.close()
    wait_closed(database_url)


@pytest.fixture
def hot(
    database_url: str, redis_server_url: str, redis_prefix: str, tmp_path: Path
) -> Iterator[Hot]:
    """HoT as ``hot serve`` builds it (without its relay), on the test's servers."""
    environ = {
        "HOT_DATABASE_URL": database_url,
        "HOT_REDIS_URL": redis_server_url,
        "HOT_REDIS_PREFIX": redis_prefix,
        "HOT_DATA_DIR": str(tmp_path),
    }
    built = bootstrap(Settings.from_env(environ), serves_commands=True)
    yield built
    built.close()  # again, in case the test failed first: closing twice does nothing


@pytest.mark.redis
def test_the_api_closes_what_it_made_and_hot_at_shutdown(
    hot: Hot, database_url: str, redis_server_url: str
) -> None:
    names = (REDIS_CLIENT_NAME, WRITE_THROUGH_CLIENT_NAME)
    before = {name: redis_clients(redis_server_url, name) for name in names}
    with ApiKeyStore(database_url) as store:
        token = store.create("ops", [Scope.ADMIN])

    with TestClient(build_api(hot, close_on_shutdown=True)) as client:
        client.headers["Authorization"] = f"Bearer {token}"
        assert client.get("/health/ready").status_code == 200  # pings Redis with Hot.redis
        body = {"name": "Hari Seldon", "email": "hari@trantor.test", "kind": "employee"}
        assert client.post("/humans", json=body).status_code == 201  # written through

        assert connections(database_url, api_keys.POOL_NAME) >= 1
        assert connections(database_url, "hot-commit-listener") == 1
        for name in names:
            wait_until(
                lambda name=name: redis_clients(redis_server_url, name) > before[name],
                5,
                f"a Redis connection named {name}",
            )

    wait_closed(database_url)
    for name in names:
        wait_until(
            lambda name=name: redis_clients(redis_server_url, name) == before[name],
            5,
            f"every Redis connection named {name} closed",
        )
