"""A process's known state follows the log on real PostgreSQL: what another process
commits is learned from the commit's notification, a read of a human's current state
answers from it only when it has followed the log past its head, and a command decides
on it without losing a race to the other process's write."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator, Sequence
from datetime import date

import psycopg
import pytest

from hot.application import HumansApplication
from hot.application.decoding import Row
from hot.application.known import UNKNOWN, KnownState
from hot.domain import HumanKind
from hot.infra.bootstrap import follow_commits
from tests.blocking import blocking_application
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres


@pytest.fixture
def following(app: HumansApplication, database_url: str) -> Iterator[HumansApplication]:
    """``app``, its known state following every process's commits, as ``hot serve``'s."""
    stop = follow_commits(app, database_url)
    wait_until(lambda: app.known.position != UNKNOWN, 10, "the listener follows the log")
    yield app
    stop()


@pytest.fixture
def elsewhere(database_url: str) -> Iterator[HumansApplication]:
    """Another process's application on the same database."""
    other = blocking_application(database_url)
    yield other
    other.close()


def _member(app: HumansApplication, name: str) -> str:
    human = app.register(name, f"{name.lower()}@trantor.example", HumanKind.EMPLOYEE)
    app.join(human.id, date(2020, 1, 1), "clerk")
    return human.id


def test_a_read_after_another_process_wrote_sees_the_write(
    following: HumansApplication, elsewhere: HumansApplication
) -> None:
    human_id = _member(following, "Jord")
    assert following.get_human(human_id).version == 2

    elsewhere.attend(human_id, date(2020, 1, 2))  # committed: answered to its client

    assert following.get_human(human_id).version == 3  # at once, learned or loaded


def _attended_elsewhere_and_learned(
    following: HumansApplication, elsewhere: HumansApplication, name: str
) -> str:
    """A member of ``following``'s, who then attends through ``elsewhere``; returned once
    ``following`` has learned it."""
    human_id = _member(following, name)
    elsewhere.attend(human_id, date(2020, 1, 2))
    head = following.head()
    wait_until(lambda: following.known.position >= head, 10, "the write is learned")
    return human_id


def test_the_known_state_answers_once_it_has_followed_the_log_past_its_head(
    following: HumansApplication, elsewhere: HumansApplication
) -> None:
    human_id = _attended_elsewhere_and_learned(following, elsewhere, "Linge")
    before = dataclasses.replace(following.reads)

    seen = following.get_human(human_id)

    assert seen.version == 3
    assert seen.attended_days == (date(2020, 1, 2),)
    assert (following.reads.known, following.reads.loaded) == (before.known + 1, before.loaded)


def test_a_command_decides_on_what_was_learned_without_losing_a_race(
    following: HumansApplication, elsewhere: HumansApplication
) -> None:
    human_id = _attended_elsewhere_and_learned(following, elsewhere, "Wanda")
    before = dataclasses.replace(following.decisions)

    result = following.attend(human_id, date(2020, 1, 3))

    assert result.version == 4
    assert following.decisions.known == before.known + 1
    assert (following.decisions.fresh, following.decisions.lost_races) == (
        before.fresh,
        before.lost_races,
    )


def test_a_read_while_the_known_state_lags_the_log_is_loaded(
    following: HumansApplication, elsewhere: HumansApplication, monkeypatch: pytest.MonkeyPatch
) -> None:
    human_id = _member(following, "Kleise")
    head = following.head()
    wait_until(lambda: following.known.position >= head, 10, "the member is learned")
    gate = threading.Event()
    learn = KnownState.learn

    def late_learn(known: KnownState, stored: Sequence[Row]) -> None:
        gate.wait(10)  # the notification is slow to come
        learn(known, stored)

    monkeypatch.setattr(KnownState, "learn", late_learn)
    before = dataclasses.replace(following.reads)
    try:
        elsewhere.attend(human_id, date(2020, 1, 2))

        assert following.get_human(human_id).version == 3
        assert following.reads.loaded == before.loaded + 1  # not the known version 2
    finally:
        gate.set()


def test_without_a_listener_every_read_of_current_state_is_loaded(
    app: HumansApplication, elsewhere: HumansApplication
) -> None:
    human_id = _member(app, "Mallow")
    before = dataclasses.replace(app.reads)

    elsewhere.attend(human_id, date(2020, 1, 2))

    assert app.get_human(human_id).version == 3
    assert (app.reads.known, app.reads.loaded) == (before.known, before.loaded + 1)


def test_a_lost_listener_connection_is_followed_by_loads_until_it_follows_again(
    following: HumansApplication, elsewhere: HumansApplication, database_url: str
) -> None:
    human_id = _member(following, "Hober")
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = 'hot-commit-listener' AND datname = current_database()"
        )
    wait_until(lambda: following.known.position == UNKNOWN, 10, "the listener notices")
    elsewhere.attend(human_id, date(2020, 1, 2))  # while nobody listens

    assert following.get_human(human_id).version == 3  # loaded: nothing known is trusted
    wait_until(lambda: following.known.position != UNKNOWN, 10, "the listener is back")
    elsewhere.attend(human_id, date(2020, 1, 3))
    assert following.get_human(human_id).version == 4
