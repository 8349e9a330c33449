"""Registering and changing details: valid names and emails, and only real changes recorded.

Email *uniqueness* is the application's rule (it needs every human's claim); it is
tested in ``tests/integration/test_application_commands.py``.
"""

from __future__ import annotations

from uuid import uuid4

import pytest

from hot.domain import Human, HumanKind, InvalidDetailsError, NothingChangedError
from tests.unit.steps import as_fact, details_changed, given, registered, then_events, then_rejected

BAD_EMAILS = ["", "ann", "ann@", "@example.org", "ann@example", "ann smith@example.org", "a@b@c.d"]


# register ----------------------------------------------------------------------------------


def test_a_human_registers_with_trimmed_details() -> None:
    human_id = uuid4()

    human = Human.register(" Ann ", " ann@example.org ", HumanKind.VISITOR, human_id=human_id)

    (event,) = human.collect_events()
    assert as_fact(event) == registered("Ann", "ann@example.org", HumanKind.VISITOR)
    assert (human.id, human.version, human.status) == (human_id, 1, "registered")
    assert (human.memberships, human.attended_days) == ([], set())


def test_a_blank_name_is_refused_at_registration() -> None:
    with pytest.raises(InvalidDetailsError) as raised:
        Human.register("   ", "ann@example.org", HumanKind.EMPLOYEE)

    assert raised.value.field == "name"


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_a_malformed_email_is_refused_at_registration(email: str) -> None:
    with pytest.raises(InvalidDetailsError) as raised:
        Human.register("Ann", email, HumanKind.EMPLOYEE)

    assert raised.value.field == "email"


def test_every_invalid_detail_of_a_registration_is_named_at_once() -> None:
    with pytest.raises(InvalidDetailsError) as raised:
        Human.register("  ", "ann@", "robot")

    assert raised.value.field == "name"  # the first
    assert [field for field, _ in raised.value.problems] == ["name", "email", "kind"]
    assert "A name must not be blank." in str(raised.value)
    assert "'ann@' is not an email address." in str(raised.value)


# change details ----------------------------------------------------------------------------


def test_a_new_name_is_recorded_alone() -> None:
    human = given(registered())

    human.change_details(name="Ann Other")

    assert then_events(human) == [details_changed(name="Ann Other")]
    assert (human.name, human.email) == ("Ann Other", "ann@example.org")


def test_a_new_email_is_recorded_alone_when_the_name_given_is_the_same() -> None:
    human = given(registered())

    human.change_details(name=" Ann Example ", email="ann@other.org")

    assert then_events(human) == [details_changed(email="ann@other.org")]
    assert (human.name, human.email) == ("Ann Example", "ann@other.org")


def test_an_email_differing_only_in_case_is_a_change_that_keeps_the_claim() -> None:
    human = given(registered())

    human.change_details(email="Ann@Example.org")

    assert then_events(human) == [details_changed(email="Ann@Example.org")]
    assert not human.email_changes_claim("ANN@EXAMPLE.ORG")
    assert human.email_changes_claim("ann@other.org")


@pytest.mark.parametrize(
    ("name", "email"),
    [
        ("Ann Example", None),
        (None, " ann@example.org"),
        ("Ann Example", "ann@example.org"),
        (None, None),
    ],
    ids=["same-name", "same-email", "same-both", "nothing-given"],
)
def test_details_equal_to_the_current_ones_change_nothing(
    name: str | None, email: str | None
) -> None:
    human = given(registered())

    then_rejected(human, NothingChangedError, lambda h: h.change_details(name, email))


def test_a_blank_name_is_refused_on_change() -> None:
    human = given(registered())

    error = then_rejected(human, InvalidDetailsError, lambda h: h.change_details(name=" "))

    assert isinstance(error, InvalidDetailsError)
    assert error.field == "name"


def test_a_blank_name_and_a_malformed_email_are_refused_together_on_change() -> None:
    human = given(registered())

    error = then_rejected(human, InvalidDetailsError, lambda h: h.change_details(" ", "bob@"))

    assert isinstance(error, InvalidDetailsError)
    assert [field for field, _ in error.problems] == ["name", "email"]


@pytest.mark.parametrize("email", BAD_EMAILS)
def test_a_malformed_email_is_refused_on_change(email: str) -> None:
    human = given(registered())

    then_rejected(human, InvalidDetailsError, lambda h: h.change_details(name="Bob", email=email))
