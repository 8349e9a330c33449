"""Races on a real PostgreSQL, between threads and between processes.

A barrier releases the racers together, so the race is real. With the same
``expected_version`` only one write may win, and the loser gets a
``ConcurrencyError``; without it, writes to different days of one human must all
land (the application decides again after a lost race); and of several
registrations of one email, whatever its case, exactly one succeeds.

Threads race either inside one application (one group committer) or across two
(two connection pools), so both ways of colliding are exercised. Processes are
spawned fresh and build their own application with ``build_application``.
"""

from __future__ import annotations

import multiprocessing
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import pytest

from hot.application import HumansApplication
from hot.domain import (
    ConflictError,
    DomainError,
    EmailTakenError,
    ExternalIdTakenError,
    HumanKind,
    VersionMismatchError,
)
from tests.blocking import blocking_application

pytestmark = pytest.mark.postgres

TIMEOUT = 60  # seconds; a race that takes longer has deadlocked
Outcome = str  # "ok", or the name of the DomainError raised
Command = Callable[[HumansApplication], object]
CONCURRENCY_ERRORS = {VersionMismatchError.__name__, ConflictError.__name__}


def attend(human_id: UUID, day: date, expected_version: int | None = None) -> Command:
    return lambda app: app.attend(human_id, day, expected_version=expected_version)


def register(email: str) -> Command:
    return lambda app: app.register("Ann", email, HumanKind.EMPLOYEE)


def set_ecode(human_id: UUID, value: str) -> Command:
    return lambda app: app.set_external_id(human_id, "ecode", value)


def _race(apps: list[HumansApplication], commands: list[Command]) -> list[Outcome]:
    """Run the commands in threads released together; command i uses app i % len(apps)."""
    barrier = threading.Barrier(len(commands))

    def racer(i: int) -> Outcome:
        app = apps[i % len(apps)]
        barrier.wait(timeout=TIMEOUT)
        try:
            commands[i](app)
        except DomainError as error:
            return type(error).__name__
        return "ok"

    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(racer, range(len(commands)), timeout=TIMEOUT))


def _one_wins(outcomes: list[Outcome]) -> bool:
    """One racer succeeded, and every other lost to it with a ``ConcurrencyError``."""
    losers = [o for o in outcomes if o != "ok"]
    return len(losers) == len(outcomes) - 1 and set(losers) <= CONCURRENCY_ERRORS


def _member(app: HumansApplication, email: str = "ann@example.org") -> UUID:
    human_id = app.register("Ann", email, HumanKind.EMPLOYEE).id
    app.join(human_id, app.today() - timedelta(days=60), "engineer")
    return human_id


# threads -----------------------------------------------------------------------------------


@pytest.fixture(params=["one-app", "two-apps"])
def apps(
    request: pytest.FixtureRequest, app: HumansApplication, database_url: str
) -> Iterator[list[HumansApplication]]:
    if request.param == "one-app":
        yield [app]
        return
    other = blocking_application(database_url)
    yield [app, other]
    other.close()


def test_two_threads_expecting_the_same_version_one_wins(
    app: HumansApplication, apps: list[HumansApplication]
) -> None:
    human_id = _member(app)
    first_day = app.today() - timedelta(days=50)

    for round_ in range(6):
        version = app.get_human(human_id).version
        days = [first_day + timedelta(days=2 * round_ + n) for n in (0, 1)]

        outcomes = _race(apps, [attend(human_id, day, expected_version=version) for day in days])

        assert _one_wins(outcomes), outcomes
        new = app.history(human_id, after=version)
        assert [e.sequence for e in new] == [version + 1], f"round {round_}: {new}"


def test_eight_threads_attending_different_days_all_land(
    app: HumansApplication, apps: list[HumansApplication]
) -> None:
    human_id = _member(app)
    days = [app.today() - timedelta(days=n) for n in range(8)]

    outcomes = _race(apps, [attend(human_id, day) for day in days])

    assert outcomes == ["ok"] * 8
    attended = app.history(human_id, after=2)
    assert sorted(date.fromisoformat(e.payload["on"]) for e in attended) == sorted(days)
    assert [e.sequence for e in attended] == list(range(3, 11))
    assert app.get_human(human_id).attended_days == tuple(sorted(days))


def test_racing_registrations_of_one_email_in_any_case_register_one_human(
    app: HumansApplication, apps: list[HumansApplication]
) -> None:
    emails = ["ann@example.org", "ANN@example.org", "Ann@Example.org", " ann@EXAMPLE.org "] * 2

    outcomes = _race(apps, [register(email) for email in emails])

    assert Counter(outcomes) == {"ok": 1, EmailTakenError.__name__: 7}
    assert len(app.read_log(names=["HUMAN_REGISTERED"]).events) == 1


def test_racing_humans_setting_one_external_id_give_it_to_one(
    app: HumansApplication, apps: list[HumansApplication]
) -> None:
    humans = [app.register("Ann", f"ann{i}@example.org", HumanKind.EMPLOYEE).id for i in range(8)]

    outcomes = _race(apps, [set_ecode(human_id, "E123") for human_id in humans])

    assert Counter(outcomes) == {"ok": 1, ExternalIdTakenError.__name__: 7}
    (holder,) = app.find_by_external_id("ecode", "E123")
    assert holder.id == humans[outcomes.index("ok")]
    assert len(app.read_log(names=["HUMAN_EXTERNAL_ID_SET"]).events) == 1


def test_applications_starting_together_on_one_database_all_start(database_url: str) -> None:
    """Several HoT processes (``HOT_WORKERS`` > 1) start at once on the same database."""
    blocking_application(database_url).close()  # the tables exist; only the startups race
    failures: list[str] = []

    def start(barrier: threading.Barrier) -> None:
        barrier.wait(timeout=TIMEOUT)
        try:
            blocking_application(database_url).close()
        except Exception as error:  # what a worker would die of at startup
            failures.append(repr(error))

    for _ in range(5):
        barrier = threading.Barrier(4)
        starters = [threading.Thread(target=start, args=(barrier,)) for _ in range(4)]
        for starter in starters:
            starter.start()
        for starter in starters:
            starter.join(timeout=TIMEOUT)

    assert failures == []


# processes ---------------------------------------------------------------------------------

Job = tuple[Any, ...]  # ("attend", human_id, day, expected_version) or ("register", *emails)


class Racers:
    """Spawned processes that each build their own application and race on command.

    Spawning (a fresh interpreter importing HoT) takes seconds, so the processes are
    started once for the module and reused; the barrier and lock are created with
    them, as process barriers must be. Applications start one at a time (under the
    lock): starting together is a race of its own, tested above.
    """

    def __init__(self, count: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.barrier = context.Barrier(count)
        self.startup = context.Lock()
        self.results: Any = context.Queue()
        self.inboxes: list[Any] = [context.Queue() for _ in range(count)]
        self.processes = [
            context.Process(
                target=_serve, args=(inbox, self.startup, self.barrier, self.results), daemon=True
            )
            for inbox in self.inboxes
        ]
        for process in self.processes:
            process.start()

    def race(self, database_url: str, jobs: list[Job]) -> list[Outcome]:
        """Give process i the i-th job; the outcomes of all the commands, in no order."""
        for inbox, job in zip(self.inboxes, jobs, strict=True):
            inbox.put((database_url, job))
        return [o for _ in jobs for o in self.results.get(timeout=TIMEOUT)]

    def close(self) -> None:
        for inbox in self.inboxes:
            inbox.put(None)
        for process in self.processes:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def _serve(inbox: Any, startup: Any, barrier: Any, results: Any) -> None:
    """A racer process: for each job, build an application, wait for the others, run it."""
    while (message := inbox.get()) is not None:
        database_url, job = message
        app: HumansApplication | None = None
        try:
            with startup:
                app = blocking_application(database_url)
                app.head()  # connected before the race starts
            barrier.wait(timeout=TIMEOUT)
            results.put(_race([app], _commands_of(job)))
        except BaseException as error:  # report anything, so the parent never waits in vain
            results.put([f"crashed: {error!r}"])
        finally:
            if app is not None:
                app.close()


def _commands_of(job: Job) -> list[Command]:
    if job[0] == "attend":
        _, human_id, day, version = job
        return [attend(UUID(human_id), date.fromisoformat(day), expected_version=version)]
    return [register(email) for email in job[1:]]


@pytest.fixture(scope="module")
def racers() -> Iterator[Racers]:
    pool = Racers(2)
    yield pool
    pool.close()


def test_two_processes_expecting_the_same_version_one_wins(
    app: HumansApplication, database_url: str, racers: Racers
) -> None:
    human_id = _member(app)

    for round_ in range(3):
        version = app.get_human(human_id).version
        days = [app.today() - timedelta(days=2 * round_ + n) for n in (0, 1)]

        outcomes = racers.race(
            database_url, [("attend", str(human_id), day.isoformat(), version) for day in days]
        )

        assert _one_wins(outcomes), outcomes
        assert [e.sequence for e in app.history(human_id, after=version)] == [version + 1]


def test_racing_registrations_across_processes_and_threads_register_one_human(
    app: HumansApplication, database_url: str, racers: Racers
) -> None:
    emails = ["bob@example.org", "BOB@example.org", "Bob@Example.Org", " bob@example.ORG"]

    outcomes = racers.race(database_url, [("register", *emails[:2]), ("register", *emails[2:])])

    assert Counter(outcomes) == {"ok": 1, EmailTakenError.__name__: 3}, outcomes
    (registered,) = app.read_log(names=["HUMAN_REGISTERED"]).events
    assert registered.payload["email"] in [e.strip() for e in emails]
