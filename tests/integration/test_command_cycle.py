"""The command cycle on real PostgreSQL: group commit, known state, idempotency, envelopes.

Two application instances on one database stand for two processes: each has its
own cache of known state and its own group committer.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from uuid import UUID, uuid4

import pytest

from hot.application import Envelope, HumansApplication, IdempotencyKey
from hot.domain import (
    AlreadyMemberError,
    EmailTakenError,
    HumanKind,
    IdempotencyKeyReusedError,
    InvalidEnvelopeError,
    VersionMismatchError,
)
from tests.blocking import blocking_application, opened_application

pytestmark = pytest.mark.postgres


@pytest.fixture
def other(database_url: str) -> Iterator[HumansApplication]:
    """A second application on the same database: another process, in effect."""
    with opened_application(database_url) as application:
        yield application


def _member(app: HumansApplication) -> UUID:
    human = app.register("Hari", f"{uuid4().hex}@trantor.test", HumanKind.EMPLOYEE).id
    app.join(human, date(2020, 1, 1), "psychohistorian")
    return human


def _events_of(app: HumansApplication, human: UUID) -> list[str]:
    return [e.name for e in app.history(human, limit=1000)]


def test_concurrent_commands_on_many_humans_all_commit_each_once(app: HumansApplication) -> None:
    humans = [_member(app) for _ in range(16)]
    days = [date(2021, 1, 1) + timedelta(days=d) for d in range(10)]

    def attend_all(human: UUID) -> list[int]:
        return [app.attend(human, day).version for day in days]

    with ThreadPoolExecutor(16) as pool:
        versions = list(pool.map(attend_all, humans))

    assert versions == [list(range(3, 13))] * 16
    for human in humans:
        history = app.history(human, limit=100)
        assert [e.payload.get("on") for e in history[2:]] == [d.isoformat() for d in days]


def test_concurrent_commands_on_one_human_are_each_recorded_once(app: HumansApplication) -> None:
    human = _member(app)
    days = [date(2021, 1, 1) + timedelta(days=d) for d in range(40)]

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda day: app.attend(human, day), days))

    assert sorted(r.version for r in results) == list(range(3, 43))
    positions = [r.position for r in results]
    assert len(set(positions)) == 40
    assert sorted(app.get_human(human).attended_days) == days


def test_a_stale_known_state_costs_a_retry_not_a_wrong_answer(
    app: HumansApplication, other: HumansApplication
) -> None:
    human = _member(app)
    app.get_human(human)  # app now knows the human at version 2
    other.leave(human, date(2021, 1, 1))
    other.join(human, date(2022, 1, 1), "mayor")  # version 4, unknown to app

    with pytest.raises(AlreadyMemberError):
        app.join(human, date(2023, 1, 1), "clerk")  # rejection confirmed on fresh state
    result = app.attend(human, date(2022, 6, 1))

    assert result.version == 5
    assert _events_of(app, human)[-1] == "HUMAN_ATTENDED"


def test_if_match_is_checked_against_the_current_version_not_a_stale_one(
    app: HumansApplication, other: HumansApplication
) -> None:
    human = _member(app)
    other.attend(human, date(2021, 1, 1))  # version 3, app still knows 2

    assert app.attend(human, date(2021, 1, 2), expected_version=3).version == 4
    with pytest.raises(VersionMismatchError):
        app.attend(human, date(2021, 1, 3), expected_version=3)


def test_an_email_released_by_another_process_can_be_claimed(
    app: HumansApplication, other: HumansApplication
) -> None:
    first = app.register("Salvor", "salvor@terminus.test", HumanKind.EMPLOYEE).id
    with pytest.raises(EmailTakenError):
        app.register("Hardin", "SALVOR@terminus.test", HumanKind.VISITOR)
    other.change_details(first, email="mayor@terminus.test")

    second = app.register("Hardin", "salvor@terminus.test", HumanKind.VISITOR)

    assert app.get_human(second.id).email == "salvor@terminus.test"


def test_an_idempotent_retry_returns_the_first_answer_and_records_nothing(
    app: HumansApplication, other: HumansApplication
) -> None:
    human = _member(app)
    key = IdempotencyKey("attend-once", "fingerprint-1")
    first = app.attend(human, date(2021, 1, 1), idempotency=key)
    head = app.head()

    again = other.attend(human, date(2021, 1, 1), idempotency=key)  # another process

    assert again == first
    assert app.head() == head


def test_an_idempotency_key_reused_for_another_request_is_refused(app: HumansApplication) -> None:
    human = _member(app)
    app.attend(human, date(2021, 1, 1), idempotency=IdempotencyKey("k", "one"))
    head = app.head()

    with pytest.raises(IdempotencyKeyReusedError):
        app.attend(human, date(2021, 1, 2), idempotency=IdempotencyKey("k", "two"))
    assert app.head() == head


def test_racing_retries_with_one_key_record_once(app: HumansApplication) -> None:
    human = _member(app)
    key = IdempotencyKey("racing", "same")

    with ThreadPoolExecutor(8) as pool:
        results = list(
            pool.map(lambda _: app.attend(human, date(2021, 1, 1), idempotency=key), range(8))
        )

    assert len(set(results)) == 1
    assert _events_of(app, human).count("HUMAN_ATTENDED") == 1


def test_an_envelope_is_recorded_with_its_own_id_once(app: HumansApplication) -> None:
    registration = Envelope(
        uuid4(),
        "HUMAN_REGISTERED",
        1,
        {"name": "Dors", "email": "dors@trantor.test", "kind": "employee"},
    )
    registered = app.record(registration)
    joining = Envelope(
        uuid4(),
        "HUMAN_JOINED",
        1,
        {"human_id": str(registered.id), "on": "2020-02-01", "role": "tutor"},
    )
    joined = app.record(joining)
    head = app.head()

    assert app.record(joining) == joined
    assert app.record(registration) == registered
    assert app.head() == head
    assert [e.id for e in app.history(registered.id)] == [registration.id, joining.id]


@pytest.mark.parametrize(
    ("name", "version", "payload", "field"),
    [
        ("HUMAN_PROMOTED", 1, {}, "name"),
        ("HUMAN_JOINED", 2, {"human_id": str(uuid4()), "on": "2020-01-01", "role": "x"}, "version"),
        ("HUMAN_JOINED", 1, {"on": "2020-01-01", "role": "x"}, "payload.human_id"),
        (
            "HUMAN_JOINED",
            1,
            {"human_id": "not-a-uuid", "on": "2020-01-01", "role": "x"},
            "payload.human_id",
        ),
        ("HUMAN_JOINED", 1, {"human_id": str(uuid4()), "on": "someday", "role": "x"}, "payload.on"),
        ("HUMAN_JOINED", 1, {"human_id": str(uuid4()), "on": "2020-01-01"}, "payload.role"),
        (
            "HUMAN_JOINED",
            1,
            {"human_id": str(uuid4()), "on": "2020-01-01", "role": "x", "pay": 1},
            "payload.pay",
        ),
        (
            "HUMAN_REGISTERED",
            1,
            {"name": "A", "email": "a@b.test", "kind": "robot"},
            "payload.kind",
        ),
    ],
)
def test_an_envelope_the_catalog_does_not_describe_is_refused_naming_the_field(
    app: HumansApplication, name: str, version: int, payload: dict[str, object], field: str
) -> None:
    head = app.head()

    with pytest.raises(InvalidEnvelopeError) as refused:
        app.record(Envelope(uuid4(), name, version, payload))

    assert refused.value.field == field
    assert app.head() == head


def test_without_group_commit_commands_behave_the_same(database_url: str) -> None:
    app = blocking_application(database_url, max_batch=1)
    try:
        human = _member(app)
        with ThreadPoolExecutor(8) as pool:
            list(
                pool.map(
                    lambda d: app.attend(human, date(2021, 1, 1) + timedelta(days=d)), range(16)
                )
            )
        assert app.get_human(human).version == 18
    finally:
        app.close()


def test_a_human_with_a_long_history_is_snapshotted_and_still_reads_the_same(
    app: HumansApplication,
) -> None:
    human = _member(app)
    for d in range(120):
        app.attend(human, date(2020, 1, 1) + timedelta(days=d))
    fresh = blocking_application(app.env["POSTGRES_DBNAME"] and _url_of(app))
    try:
        snapshots = list(app.snapshots.get(human)) if app.snapshots else []
        assert [s.originator_version for s in snapshots] == [100]
        assert fresh.get_human(human) == app.get_human(human)
        assert fresh.get_human(human, version=101).attended_days[-1] == date(
            2020, 1, 1
        ) + timedelta(days=98)
    finally:
        fresh.close()


def _url_of(app: HumansApplication) -> str:
    env = app.env
    return f"postgresql://{env['POSTGRES_USER']}@/{env['POSTGRES_DBNAME']}?host={env['POSTGRES_HOST']}&port={env['POSTGRES_PORT']}"
