"""Joining and leaving: each rule accepted once and rejected once, given events / when / then."""

from __future__ import annotations

from datetime import date

from hot.domain import (
    AlreadyMemberError,
    InvalidDetailsError,
    LeaveBeforeJoinError,
    Membership,
    NotMemberError,
    RejoinTooEarlyError,
)
from tests.unit.steps import given, joined, left, registered, then_events, then_rejected

JAN_5 = date(2026, 1, 5)
JAN_20 = date(2026, 1, 20)


# join only when not a member -------------------------------------------------------------


def test_a_registered_human_joins() -> None:
    human = given(registered())

    human.join(JAN_5, "  engineer ")

    assert then_events(human) == [joined(JAN_5, "engineer")]
    assert human.status == "member"
    assert human.memberships == [Membership(JAN_5, "engineer")]


def test_a_member_cannot_join_again() -> None:
    human = given(registered(), joined(JAN_5))

    error = then_rejected(human, AlreadyMemberError, lambda h: h.join(JAN_20, "manager"))

    assert "2026-01-05" in str(error)


def test_a_blank_role_is_refused() -> None:
    human = given(registered())

    error = then_rejected(human, InvalidDetailsError, lambda h: h.join(JAN_5, "  "))

    assert isinstance(error, InvalidDetailsError)
    assert error.field == "role"


# rejoin only after the last membership ended ----------------------------------------------


def test_a_former_member_rejoins_the_day_after_leaving_in_a_new_period() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20))

    human.join(date(2026, 1, 21), "manager")

    assert then_events(human) == [joined(date(2026, 1, 21), "manager")]
    assert human.memberships == [
        Membership(JAN_5, "engineer", JAN_20),
        Membership(date(2026, 1, 21), "manager"),
    ]
    assert human.status == "member"


def test_a_former_member_cannot_rejoin_on_the_day_they_left() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20))

    then_rejected(human, RejoinTooEarlyError, lambda h: h.join(JAN_20, "manager"))


def test_a_former_member_cannot_rejoin_inside_the_last_period() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20))

    then_rejected(human, RejoinTooEarlyError, lambda h: h.join(date(2025, 12, 1), "manager"))


# leave only when a member, on or after the join date ---------------------------------------


def test_a_member_leaves_later_with_a_trimmed_reason() -> None:
    human = given(registered(), joined(JAN_5))

    human.leave(JAN_20, "  moved on ")

    assert then_events(human) == [left(JAN_20, "moved on")]
    assert human.status == "former"
    assert human.current_membership is None


def test_a_member_leaves_on_the_day_they_joined_and_a_blank_reason_is_none() -> None:
    human = given(registered(), joined(JAN_5))

    human.leave(JAN_5, "   ")

    assert then_events(human) == [left(JAN_5, None)]
    assert human.memberships == [Membership(JAN_5, "engineer", JAN_5)]


def test_a_member_cannot_leave_before_joining() -> None:
    human = given(registered(), joined(JAN_5))

    then_rejected(human, LeaveBeforeJoinError, lambda h: h.leave(date(2026, 1, 4)))


def test_the_leave_date_is_checked_against_the_current_period_not_the_first() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20), joined(date(2026, 2, 1)))

    then_rejected(human, LeaveBeforeJoinError, lambda h: h.leave(date(2026, 1, 31)))


def test_a_human_who_never_joined_cannot_leave() -> None:
    human = given(registered())

    then_rejected(human, NotMemberError, lambda h: h.leave(JAN_5))


def test_a_former_member_cannot_leave_again() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20))

    then_rejected(human, NotMemberError, lambda h: h.leave(date(2026, 1, 25)))


def test_a_reason_with_a_nul_character_is_refused() -> None:
    human = given(registered(), joined(JAN_5))

    error = then_rejected(human, InvalidDetailsError, lambda h: h.leave(JAN_20, "moved\x00away"))

    assert isinstance(error, InvalidDetailsError)
    assert error.field == "reason"


def test_a_reason_keeps_its_line_breaks_and_tabs() -> None:
    human = given(registered(), joined(JAN_5))

    human.leave(JAN_20, " moved\n\taway ")

    assert then_events(human) == [left(JAN_20, "moved\n\taway")]
