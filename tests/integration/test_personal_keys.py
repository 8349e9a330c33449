"""The key stores of every process stop serving a destroyed key as soon as it is destroyed.

Two key stores, each with a cache that would keep a key for an hour, stand for two
processes (they share nothing but the database): a key destroyed by a forgetting in
one is dropped by the other when the forgetting commits (LISTEN/NOTIFY), not when
its cache expires.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import date

import psycopg
import pytest

from hot.application import HumansApplication
from hot.domain import FORGOTTEN, HumanKind
from hot.infra.personal_keys import (
    LISTENER_NAME,
    PostgresPersonalKeyStore,
    destroy_keys_statement,
    insert_keys_statement,
)
from tests.activity import terminate
from tests.blocking import blocking_application
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

HOUR = 3600.0


@pytest.fixture
def stores(database_url: str) -> Iterator[list[PostgresPersonalKeyStore]]:
    """Two key stores on one database, as two processes have, caching keys for an hour."""
    made = [PostgresPersonalKeyStore(database_url, cache_seconds=HOUR) for _ in range(2)]
    for store in made:
        assert store.listening.wait(10)
    yield made
    for store in made:
        store.close()


def destroy(database_url: str, human_id: uuid.UUID, *, commit: bool = True) -> None:
    """Destroy the key as the forgetting transaction does (or roll that back)."""
    with psycopg.connect(database_url) as conn:
        conn.execute(destroy_keys_statement(), ([human_id],))
        if not commit:
            conn.rollback()


def test_a_key_destroyed_elsewhere_leaves_every_cache_at_commit(
    database_url: str, stores: list[PostgresPersonalKeyStore]
) -> None:
    first, second = stores
    human, other, later = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    keys = [(human, b"k" * 32), (other, b"o" * 32), (later, b"l" * 32)]
    with psycopg.connect(database_url) as conn:
        conn.cursor().executemany(insert_keys_statement(), keys)
    for store in stores:
        assert store.key_for_reading(human) == b"k" * 32  # cached for an hour
        store.prefetch([other, later])

    destroy(database_url, human, commit=False)
    # A destruction committed after the rollback: once both stores have heard of it, they
    # would have heard of the rolled-back one (notifications come in commit order).
    destroy(database_url, later)
    wait_until(lambda: first.key_for_reading(later) is None, 10, "the first hears a later one")
    wait_until(lambda: second.key_for_reading(later) is None, 10, "the second hears it too")
    assert [s.key_for_reading(human) for s in stores] == [b"k" * 32] * 2  # rolled back

    destroy(database_url, human)

    wait_until(lambda: first.key_for_reading(human) is None, 10, "the first store drops it")
    wait_until(lambda: second.key_for_reading(human) is None, 10, "the second store drops it")
    assert [s.key_for_reading(other) for s in stores] == [b"o" * 32] * 2


def test_a_new_store_keeps_the_keys_it_prefetches_at_once(database_url: str) -> None:
    """A store starts with its listener up: the listener's first LISTEN, which drops
    what was cached before it, does not throw away a first page's prefetched keys."""
    human = uuid.uuid4()
    PostgresPersonalKeyStore(database_url, listen=False).close()  # the table
    with psycopg.connect(database_url) as conn:
        conn.execute(insert_keys_statement(), (human, b"k" * 32))
    store = PostgresPersonalKeyStore(database_url, cache_seconds=HOUR)
    try:
        store.prefetch([human])
        # Its first LISTEN drops the cache: once it listens, that is done (and had the
        # store not waited for it, the prefetched key would be gone by now).
        wait_until(store.listening.is_set, 30, "the listener is up")
        with psycopg.connect(database_url) as conn:  # gone without a notification
            conn.execute("DELETE FROM hot_personal_keys WHERE human_id = %s", (human,))
        assert store.key_for_reading(human) == b"k" * 32  # served from the cache
    finally:
        store.close()


def test_a_store_that_lost_its_listening_connection_serves_no_key_it_may_have_missed(
    database_url: str, stores: list[PostgresPersonalKeyStore]
) -> None:
    store = stores[0]
    human = uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.execute(insert_keys_statement(), (human, b"k" * 32))
    assert store.key_for_reading(human) == b"k" * 32

    assert terminate(database_url, LISTENER_NAME) == 2  # both stores'
    destroy(database_url, human)  # maybe while nobody listens

    wait_until(lambda: store.key_for_reading(human) is None, 10, "the key dropped")
    wait_until(store.listening.is_set, 10, "listening again")


def test_another_process_reads_a_human_as_forgotten_right_after_the_forgetting(
    app: HumansApplication, database_url: str
) -> None:
    human = app.register(
        "Bel Arvardan", f"bel-{uuid.uuid4().hex[:8]}@sirius.test", HumanKind.EMPLOYEE
    )
    app.join(human.id, date(2020, 1, 1), "archaeologist")
    other = blocking_application(database_url)
    try:
        personal_keys = other.personal_keys
        assert isinstance(personal_keys, PostgresPersonalKeyStore)
        assert personal_keys.listening.wait(10)
        personal_keys._cache_seconds = HOUR  # only the notification can make it drop the key
        assert other.history(human.id, limit=1)[0].payload["name"] == "Bel Arvardan"

        app.forget(human.id, by="ops")

        wait_until(
            lambda: other.history(human.id, limit=1)[0].payload["name"] == FORGOTTEN,
            10,
            "forgotten there",
        )
    finally:
        other.close()


def test_an_application_that_shows_no_personal_field_does_not_listen(
    app: HumansApplication, database_url: str
) -> None:
    """A masked relay's application: no listening thread, yet its keys still read."""
    human = app.register(
        "Hari Seldon", f"hari-{uuid.uuid4().hex[:8]}@trantor.test", HumanKind.EMPLOYEE
    )
    listening = {"personal": False, "masked": False}
    for mode, shows_personal in (("personal", True), ("masked", False)):
        other = blocking_application(database_url, shows_personal=shows_personal)
        try:
            listening[mode] = other.personal_keys.listens
            assert other.get_human(human.id).name == "Hari Seldon"
        finally:
            other.close()
    assert listening == {"personal": True, "masked": False}


def _listeners() -> int:
    return sum(t.name == LISTENER_NAME for t in threading.enumerate())


def test_a_query_reads_a_key_beside_its_rows_empty_once_destroyed_and_null_when_lost(
    database_url: str, stores: list[PostgresPersonalKeyStore]
) -> None:
    store = stores[0]
    kept, destroyed, lost = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    with psycopg.connect(database_url) as conn:
        conn.cursor().executemany(
            insert_keys_statement(), [(kept, b"k" * 32), (destroyed, b"d" * 32)]
        )
    before = store.epoch
    destroy(database_url, destroyed)
    wait_until(lambda: store.epoch != before, 10, "the store hears of the destruction")

    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            f"SELECT h, {store.key_column('h')} FROM unnest(%s::uuid[]) AS h",
            ([kept, destroyed, lost],),
        ).fetchall()

    assert found == [(kept, b"k" * 32), (destroyed, b""), (lost, None)]
