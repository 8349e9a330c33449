"""Commands on a real PostgreSQL: the rules that need the store, and nothing recorded on refusal.

The aggregate's own rules are unit-tested in ``tests/unit/test_human_*.py``; here
each is refused once through the application to show that a refused command leaves
the log head and the human's version untouched. Email uniqueness lives here: it is
a rule over every human, held by ``EmailClaim`` aggregates in the same store.

The tests share one database (creating one takes most of a second): each makes its
own humans, with addresses in a domain of its own, and compares the log head only
before and after its own commands.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from hot.application import HumansApplication
from hot.domain import (
    AlreadyAttendedError,
    AlreadyMemberError,
    AttendanceInFutureError,
    AttendanceOutsideMembershipError,
    DomainError,
    EmailClaim,
    EmailTakenError,
    HumanExistsError,
    HumanKind,
    HumanNotFoundError,
    InvalidDetailsError,
    LeaveBeforeJoinError,
    NothingChangedError,
    NotMemberError,
    RejoinTooEarlyError,
    VersionMismatchError,
)
from tests.blocking import opened_application

pytestmark = pytest.mark.postgres

EMPLOYEE = HumanKind.EMPLOYEE
Command = Callable[[HumansApplication, UUID], object]


@pytest.fixture(scope="module")
def app(module_database_url: str) -> Iterator[HumansApplication]:
    """One application on one fresh database, for the whole module."""
    with opened_application(module_database_url) as application:
        yield application


@dataclass(frozen=True)
class Mail:
    """Email addresses in a domain of one test's own: ``mail("ann")``."""

    domain: str

    def __call__(self, local: str) -> str:
        return f"{local}@{self.domain}"


@pytest.fixture
def mail() -> Mail:
    return Mail(f"t{uuid4().hex[:10]}.example.org")


def _days_ago(app: HumansApplication, n: int) -> date:
    return app.today() - timedelta(days=n)


def _register(app: HumansApplication, email: str, name: str = "Ann") -> UUID:
    return app.register(name, email, EMPLOYEE).id


def _refused(
    app: HumansApplication, error: type[DomainError], command: Callable[[], object]
) -> None:
    """Assert the command raises ``error`` and records nothing at all."""
    head = app.head()
    with pytest.raises(error) as raised:
        command()
    assert type(raised.value) is error
    assert app.head() == head


# commands need an existing human ---------------------------------------------------------

COMMANDS: dict[str, Command] = {
    "join": lambda app, h: app.join(h, date(2026, 1, 5), "engineer"),
    "leave": lambda app, h: app.leave(h, date(2026, 1, 5)),
    "attend": lambda app, h: app.attend(h, date(2026, 1, 5)),
    "change_details": lambda app, h: app.change_details(h, name="Bob"),
    "get_human": lambda app, h: app.get_human(h),
    "history": lambda app, h: app.history(h),
}


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_a_command_on_an_unknown_human_is_refused(
    app: HumansApplication, mail: Mail, command: Command
) -> None:
    _register(app, mail("ann"))

    _refused(app, HumanNotFoundError, lambda: command(app, uuid4()))


@pytest.mark.parametrize("command", COMMANDS.values(), ids=COMMANDS.keys())
def test_an_email_claim_is_not_a_human(
    app: HumansApplication, mail: Mail, command: Command
) -> None:
    _register(app, mail("ann"))

    _refused(
        app,
        HumanNotFoundError,
        lambda: command(app, EmailClaim.id_for(mail("ann"), app.claim_secret)),
    )


def test_a_command_on_a_known_human_is_recorded_at_the_head(
    app: HumansApplication, mail: Mail
) -> None:
    human_id = _register(app, mail("ann"))

    result = app.join(human_id, _days_ago(app, 10), "engineer")

    assert (result.id, result.version, result.position) == (human_id, 2, app.head())
    assert app.get_human(human_id).status == "member"


def test_registering_with_a_chosen_id_twice_is_refused(app: HumansApplication, mail: Mail) -> None:
    human_id = uuid4()
    app.register("Ann", mail("ann"), EMPLOYEE, human_id=human_id)

    _refused(
        app,
        HumanExistsError,
        lambda: app.register("Bob", mail("bob"), EMPLOYEE, human_id=human_id),
    )
    assert app.get_human(human_id).name == "Ann"


# email unique, case-insensitively --------------------------------------------------------


@pytest.mark.parametrize(
    "variant", [str, str.upper, lambda e: f"  {e.capitalize()} "], ids=["same", "upper", "padded"]
)
def test_an_email_already_registered_is_refused_whatever_its_case(
    app: HumansApplication, mail: Mail, variant: Callable[[str], str]
) -> None:
    _register(app, mail("ann"))
    registrations = len(app.read_log(names=["HUMAN_REGISTERED"], limit=10_000).events)

    _refused(app, EmailTakenError, lambda: app.register("Other", variant(mail("ann")), EMPLOYEE))

    assert len(app.read_log(names=["HUMAN_REGISTERED"], limit=10_000).events) == registrations


def test_two_humans_with_different_emails_register(app: HumansApplication, mail: Mail) -> None:
    ann = _register(app, mail("ann"))
    bob = _register(app, mail("bob"), "Bob")

    assert ann != bob
    assert app.get_human(bob).email == mail("bob")


def test_changing_to_another_humans_email_is_refused(app: HumansApplication, mail: Mail) -> None:
    _register(app, mail("ann"))
    bob = _register(app, mail("bob"), "Bob")

    _refused(app, EmailTakenError, lambda: app.change_details(bob, email=mail("ann").upper()))
    assert (app.get_human(bob).email, app.get_human(bob).version) == (mail("bob"), 1)


def test_changing_email_moves_the_claim(app: HumansApplication, mail: Mail) -> None:
    ann = _register(app, mail("ann"))

    app.change_details(ann, email=mail("ann.new"))

    _refused(app, EmailTakenError, lambda: app.register("Imposter", mail("ANN.NEW"), EMPLOYEE))
    bob = app.register("Bob", mail("Ann"), EMPLOYEE).id  # the old address is free again
    assert app.get_human(ann).email == mail("ann.new")
    assert app.get_human(bob).email == mail("Ann")


def test_a_released_email_can_be_taken_back_by_its_first_holder(
    app: HumansApplication, mail: Mail
) -> None:
    ann = _register(app, mail("ann"))
    app.change_details(ann, email=mail("ann.new"))
    bob = app.register("Bob", mail("ann"), EMPLOYEE).id
    app.change_details(bob, email=mail("bob"))

    app.change_details(ann, email=mail("ann"))

    assert app.get_human(ann).email == mail("ann")
    _refused(app, EmailTakenError, lambda: app.change_details(bob, email=mail("ann")))
    assert app.register("Carol", mail("ann.new"), EMPLOYEE).version == 1  # released again


def test_changing_only_the_case_of_the_email_keeps_the_claim(
    app: HumansApplication, mail: Mail
) -> None:
    ann = _register(app, mail("ann"))

    app.change_details(ann, email=mail("Ann").upper())

    assert app.get_human(ann).email == mail("Ann").upper()
    _refused(app, EmailTakenError, lambda: app.register("Other", mail("ann"), EMPLOYEE))
    app.change_details(ann, email=mail("ann"))  # and back: still its own
    assert app.get_human(ann).version == 3


def test_changing_only_the_name_keeps_the_claim(app: HumansApplication, mail: Mail) -> None:
    ann = _register(app, mail("ann"))

    app.change_details(ann, name="Ann Other")

    _refused(app, EmailTakenError, lambda: app.register("Other", mail("ANN"), EMPLOYEE))


# every rule, refused through the application, records nothing -----------------------------

FAR = 400  # days ago: well before any other date of these scenarios
Given = Callable[[HumansApplication, str], UUID]


def _member(app: HumansApplication, email: str) -> UUID:
    human_id = _register(app, email)
    app.join(human_id, _days_ago(app, FAR), "engineer")
    return human_id


def _former(app: HumansApplication, email: str) -> UUID:
    human_id = _member(app, email)
    app.attend(human_id, _days_ago(app, FAR - 1))
    app.leave(human_id, _days_ago(app, FAR - 10))
    return human_id


REFUSALS: list[tuple[str, Given, type[DomainError], Command]] = [
    ("already-member", _member, AlreadyMemberError, lambda a, h: a.join(h, _days_ago(a, 1), "x")),
    (
        "rejoin-too-early",
        _former,
        RejoinTooEarlyError,
        lambda a, h: a.join(h, _days_ago(a, FAR - 10), "engineer"),
    ),
    ("not-member", _register, NotMemberError, lambda a, h: a.leave(h, _days_ago(a, 1))),
    (
        "leave-before-join",
        _member,
        LeaveBeforeJoinError,
        lambda a, h: a.leave(h, _days_ago(a, FAR + 1)),
    ),
    (
        "outside-membership",
        _former,
        AttendanceOutsideMembershipError,
        lambda a, h: a.attend(h, _days_ago(a, FAR - 11)),
    ),
    (
        "in-future",
        _member,
        AttendanceInFutureError,
        lambda a, h: a.attend(h, a.today() + timedelta(days=1)),
    ),
    (
        "already-attended",
        _former,
        AlreadyAttendedError,
        lambda a, h: a.attend(h, _days_ago(a, FAR - 1)),
    ),
    ("blank-role", _register, InvalidDetailsError, lambda a, h: a.join(h, _days_ago(a, 1), " ")),
    ("blank-name", _register, InvalidDetailsError, lambda a, h: a.change_details(h, name=" ")),
    ("bad-email", _register, InvalidDetailsError, lambda a, h: a.change_details(h, email="a@")),
    (
        "nothing-changed",
        _register,
        NothingChangedError,
        lambda a, h: a.change_details(h, name="Ann", email=a.get_human(h).email),
    ),
]


@pytest.mark.parametrize(
    ("given", "error", "command"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_a_refused_command_records_nothing(
    app: HumansApplication, mail: Mail, given: Given, error: type[DomainError], command: Command
) -> None:
    human_id = given(app, mail("ann"))
    before = app.get_human(human_id)

    _refused(app, error, lambda: command(app, human_id))

    assert app.get_human(human_id) == before


def test_a_malformed_registration_is_refused_and_claims_nothing(
    app: HumansApplication, mail: Mail
) -> None:
    _refused(app, InvalidDetailsError, lambda: app.register("Ann", "ann@example", EMPLOYEE))
    _refused(app, InvalidDetailsError, lambda: app.register(" ", mail("ann"), EMPLOYEE))

    assert app.register("Ann", mail("ann"), EMPLOYEE).version == 1


def test_attending_today_and_on_the_leave_and_rejoin_days_is_accepted(
    app: HumansApplication, mail: Mail
) -> None:
    human_id = _register(app, mail("ann"))
    app.join(human_id, _days_ago(app, 20), "engineer")
    app.leave(human_id, _days_ago(app, 20))  # the same day
    app.join(human_id, _days_ago(app, 19), "manager")  # the day after

    for day in (_days_ago(app, 20), _days_ago(app, 19), app.today()):
        app.attend(human_id, day)

    human = app.get_human(human_id)
    assert [(m.joined_on, m.left_on) for m in human.memberships] == [
        (_days_ago(app, 20), _days_ago(app, 20)),
        (_days_ago(app, 19), None),
    ]
    assert human.attended_days == (_days_ago(app, 20), _days_ago(app, 19), app.today())


# effective dates are not recording times --------------------------------------------------


def test_a_backdated_join_is_recorded_now_with_its_old_effective_date(
    app: HumansApplication, mail: Mail
) -> None:
    human_id = _register(app, mail("ann"))
    before = datetime.now(UTC)

    app.join(human_id, date(2019, 6, 1), "engineer")

    (event,) = app.history(human_id, after=1)
    assert event.payload["on"] == "2019-06-01"
    assert before <= event.time <= datetime.now(UTC)
    assert app.get_human(human_id).memberships[0].joined_on == date(2019, 6, 1)


# expected_version --------------------------------------------------------------------------


def test_a_command_at_the_expected_version_is_recorded(app: HumansApplication, mail: Mail) -> None:
    human_id = _register(app, mail("ann"))

    result = app.join(human_id, _days_ago(app, 3), "engineer", expected_version=1)

    assert result.version == 2


def test_a_command_at_another_version_than_expected_is_refused(
    app: HumansApplication, mail: Mail
) -> None:
    human_id = _member(app, mail("ann"))

    _refused(
        app, VersionMismatchError, lambda: app.attend(human_id, app.today(), expected_version=1)
    )
