"""Value objects of the human domain: membership periods and the checks on names and emails."""

from __future__ import annotations

from datetime import date

import pytest

from hot.domain import HumanKind, InvalidDetailsError, Membership
from hot.domain.values import checked_email, checked_name, checked_role, normalised_email

JAN_5 = date(2026, 1, 5)
JAN_20 = date(2026, 1, 20)


@pytest.mark.parametrize(
    ("day", "covered"),
    [
        (date(2026, 1, 4), False),
        (JAN_5, True),
        (date(2026, 1, 9), True),
        (JAN_20, True),
        (date(2026, 1, 21), False),
    ],
)
def test_a_closed_period_covers_its_days_both_ends_included(day: date, covered: bool) -> None:
    assert Membership(JAN_5, "engineer", JAN_20).covers(day) is covered


def test_an_open_period_covers_every_day_from_its_start() -> None:
    period = Membership(JAN_5, "engineer")

    assert not period.covers(date(2026, 1, 4))
    assert period.covers(JAN_5)
    assert period.covers(date(2099, 12, 31))


def test_closing_a_period_returns_a_new_one_and_leaves_the_open_one_as_it_was() -> None:
    period = Membership(JAN_5, "engineer")

    closed = period.closed(JAN_20)

    assert closed == Membership(JAN_5, "engineer", JAN_20)
    assert period.left_on is None


@pytest.mark.parametrize("name", ["Ann", " Ann ", "\tAnn Example\n", "Åsa Øberg", "李"])
def test_a_name_is_trimmed(name: str) -> None:
    assert checked_name(name) == name.strip()


@pytest.mark.parametrize("name", ["", " ", "\t\n"])
def test_a_blank_name_is_refused(name: str) -> None:
    with pytest.raises(InvalidDetailsError) as raised:
        checked_name(name)
    assert raised.value.field == "name"


@pytest.mark.parametrize("role", ["", "   "])
def test_a_blank_role_is_refused(role: str) -> None:
    with pytest.raises(InvalidDetailsError) as raised:
        checked_role(role)
    assert raised.value.field == "role"


def test_a_role_is_trimmed() -> None:
    assert checked_role("  engineer ") == "engineer"


@pytest.mark.parametrize(
    "email", ["ann@example.org", " Ann.Example+hot@mail.example.co.uk ", "a@b.cd"]
)
def test_an_email_is_trimmed_and_keeps_its_case(email: str) -> None:
    assert checked_email(email) == email.strip()


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ann",
        "ann@",
        "@example.org",
        "ann@example",
        "ann @example.org",
        "a@b@c.d",
        "ann@example.",
    ],
)
def test_what_cannot_be_an_email_is_refused(email: str) -> None:
    with pytest.raises(InvalidDetailsError) as raised:
        checked_email(email)
    assert raised.value.field == "email"
    assert repr(email) in str(raised.value)


def test_emails_differing_only_in_case_or_spaces_normalise_alike() -> None:
    assert normalised_email(" Ann@Example.ORG ") == normalised_email("ann@example.org")
    assert normalised_email("ann@example.org") != normalised_email("anne@example.org")


def test_every_kind_is_its_own_lowercase_value() -> None:
    assert {str(k) for k in HumanKind} >= {"employee", "contractor", "visitor"}
    assert all(HumanKind(str(k)) is k for k in HumanKind)


@pytest.mark.parametrize(
    ("check", "text", "message"),
    [
        (checked_name, "\u200b", "must not be blank"),  # a zero-width space: nothing to see
        (checked_name, " \u2060\u00a0", "must not be blank"),
        (checked_name, "Hari\x00", "control characters"),  # PostgreSQL text cannot hold NUL
        (checked_name, "Hari\nSeldon", "control characters"),
        (checked_role, "\u200b", "must not be blank"),
        (checked_role, "clerk\x00", "control characters"),
        (checked_email, "hari\x00@trantor.example", "not an email address"),
    ],
)
def test_text_no_follower_could_store_or_nobody_could_see_is_refused(
    check: object, text: str, message: str
) -> None:
    with pytest.raises(InvalidDetailsError, match=message):
        check(text)  # type: ignore[operator]


def test_a_name_with_marks_and_spaces_inside_is_a_name() -> None:
    assert checked_name("  Dors\u00a0Venabili\u0301 ") == "Dors\u00a0Venabili\u0301"
