"""Attending: on a day of a membership period, never in the future, at most once a day."""

from __future__ import annotations

from datetime import date

import pytest

from hot.domain import (
    AlreadyAttendedError,
    AttendanceInFutureError,
    AttendanceOutsideMembershipError,
)
from tests.unit.steps import attended, given, joined, left, registered, then_events, then_rejected

JAN_5 = date(2026, 1, 5)
JAN_20 = date(2026, 1, 20)
FEB_1 = date(2026, 2, 1)
TODAY = date(2026, 3, 1)

TWO_PERIODS = (registered(), joined(JAN_5), left(JAN_20), joined(FEB_1))


# on a day covered by a membership period ---------------------------------------------------


@pytest.mark.parametrize(
    "day",
    [JAN_5, date(2026, 1, 12), JAN_20, FEB_1, date(2026, 2, 14)],
    ids=["first-join-day", "inside-first", "leave-day", "rejoin-day", "inside-open"],
)
def test_a_member_attends_any_day_of_a_period_boundaries_included(day: date) -> None:
    human = given(*TWO_PERIODS)

    human.attend(day, today=TODAY)

    assert then_events(human) == [attended(day)]
    assert day in human.attended_days


def test_a_former_member_may_still_record_a_day_of_their_past_membership() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20))

    human.attend(date(2026, 1, 10), today=TODAY)

    assert then_events(human) == [attended(date(2026, 1, 10))]


@pytest.mark.parametrize(
    "day",
    [date(2026, 1, 4), date(2026, 1, 21), date(2026, 1, 31)],
    ids=["before-first-join", "day-after-leaving", "last-day-of-gap"],
)
def test_no_attendance_outside_every_period_including_the_gap(day: date) -> None:
    human = given(*TWO_PERIODS)

    then_rejected(human, AttendanceOutsideMembershipError, lambda h: h.attend(day, today=TODAY))


def test_a_human_who_never_joined_cannot_attend() -> None:
    human = given(registered())

    then_rejected(human, AttendanceOutsideMembershipError, lambda h: h.attend(JAN_5, today=TODAY))


def test_no_attendance_after_the_last_period_ended() -> None:
    human = given(registered(), joined(JAN_5), left(JAN_20))

    then_rejected(
        human, AttendanceOutsideMembershipError, lambda h: h.attend(date(2026, 2, 2), today=TODAY)
    )


# never in the future -----------------------------------------------------------------------


def test_a_member_attends_today() -> None:
    human = given(registered(), joined(JAN_5))

    human.attend(TODAY, today=TODAY)

    assert then_events(human) == [attended(TODAY)]


def test_a_member_cannot_attend_tomorrow() -> None:
    human = given(registered(), joined(JAN_5))

    then_rejected(human, AttendanceInFutureError, lambda h: h.attend(date(2026, 3, 2), today=TODAY))


def test_the_future_is_refused_even_for_a_day_no_membership_covers() -> None:
    human = given(registered())

    then_rejected(human, AttendanceInFutureError, lambda h: h.attend(TODAY, today=JAN_5))


# at most once a day ------------------------------------------------------------------------


def test_a_member_attends_another_day_after_one_is_recorded() -> None:
    human = given(registered(), joined(JAN_5), attended(date(2026, 1, 6)))

    human.attend(date(2026, 1, 7), today=TODAY)

    assert then_events(human) == [attended(date(2026, 1, 7))]
    assert human.attended_days == {date(2026, 1, 6), date(2026, 1, 7)}


def test_a_day_already_attended_cannot_be_attended_again() -> None:
    human = given(registered(), joined(JAN_5), attended(date(2026, 1, 6)))

    then_rejected(human, AlreadyAttendedError, lambda h: h.attend(date(2026, 1, 6), today=TODAY))


def test_a_day_attended_stays_attended_across_leaving_and_rejoining() -> None:
    human = given(registered(), joined(JAN_5), attended(JAN_20), left(JAN_20), joined(FEB_1))

    then_rejected(human, AlreadyAttendedError, lambda h: h.attend(JAN_20, today=TODAY))
