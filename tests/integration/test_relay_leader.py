"""The relay's lock connection as a listener: every notification, in order, none twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import psycopg
import pytest

from hot.infra.relay.leader import Leadership

CHANNEL = "hot_test_leader"


@pytest.fixture
def leadership(database_url: str) -> Iterator[Leadership]:
    leadership = Leadership(database_url, "hot-test-leader", CHANNEL)
    assert leadership.try_acquire()
    yield leadership
    leadership.close()


def _notify(database_url: str, *payloads: str, one_transaction: bool = False) -> None:
    with psycopg.connect(database_url, autocommit=not one_transaction) as conn:
        for payload in payloads:
            conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))


def test_waiting_takes_every_notification_in_order_once(
    leadership: Leadership, database_url: str
) -> None:
    stopping = threading.Event()
    _notify(database_url, "a", "b", "c", one_transaction=True)  # one packet
    _notify(database_url, "d", "e")  # two transactions, maybe two packets

    taken: list[str] = []
    while len(taken) < 5:
        payloads = leadership.wait(5.0, stopping)
        assert payloads, "a notification was lost"
        taken.extend(payloads)

    assert taken == ["a", "b", "c", "d", "e"]
    assert leadership.wait(0.3, stopping) is None  # nothing more, nothing twice


def test_notifications_received_during_a_query_are_not_lost(
    leadership: Leadership, database_url: str
) -> None:
    # Sent while the lock's connection runs a query: psycopg keeps them for the next wait.
    sender = threading.Timer(0.1, _notify, (database_url, "during"))
    sender.start()
    leadership.connection.execute("SELECT pg_sleep(0.5)")
    sender.join()

    assert leadership.wait(0.0001, threading.Event()) == ["during"]


def test_waiting_ends_at_the_timeout_or_when_stopping(leadership: Leadership) -> None:
    assert leadership.wait(0.2, threading.Event()) is None

    stopping = threading.Event()
    stopping.set()
    assert leadership.wait(60.0, stopping) == []
