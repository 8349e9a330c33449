"""Random lives of one human, checked against a plain reference model of the rules.

Hypothesis drives join / leave / attend / change_details with dates in a three-week
window and a random "today", so boundaries, gaps between periods and future days
come up often. After every step the aggregate and the model must agree on whether
the command was accepted (or on the error class), and on the whole state; and
replaying the events the aggregate recorded must rebuild the very same aggregate.

The model states each rule in the order the domain checks them: for a command that
breaks two rules, the first one listed names the error.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from hot.domain import (
    AlreadyAttendedError,
    AlreadyMemberError,
    AttendanceInFutureError,
    AttendanceOutsideMembershipError,
    DomainError,
    Human,
    HumanKind,
    InvalidDetailsError,
    LeaveBeforeJoinError,
    NothingChangedError,
    NotMemberError,
    RejoinTooEarlyError,
)

Outcome = type[DomainError] | None
FIRST_DAY = date(2026, 1, 1)

days = st.integers(0, 20).map(lambda n: FIRST_DAY + timedelta(days=n))
roles = st.sampled_from(["engineer", " manager ", "", "  "])
reasons = st.none() | st.sampled_from(["moved on", "  ", ""])
names = st.sampled_from(["Ann", " Ann ", "Bob", "", "   "])
emails = st.sampled_from(
    ["ann@example.org", "Ann@Example.org", " bob@example.org ", "bob@", "", "not an email"]
)
# Which of those the reference accepts: its own list, not the domain's regex.
VALID_EMAILS = {"ann@example.org", "Ann@Example.org", "bob@example.org"}


class Reference:
    """The rules of a human's life, in plain lists, dicts and sets."""

    def __init__(self, name: str, email: str) -> None:
        self.name = name.strip()
        self.email = email.strip()
        self.periods: list[dict[str, Any]] = []  # {"joined_on", "role", "left_on"}
        self.attended: set[date] = set()

    def is_member(self) -> bool:
        return bool(self.periods) and self.periods[-1]["left_on"] is None

    def status(self) -> str:
        if not self.periods:
            return "registered"
        return "member" if self.is_member() else "former"

    def join(self, on: date, role: str) -> Outcome:
        if self.is_member():
            return AlreadyMemberError
        if self.periods and on <= self.periods[-1]["left_on"]:
            return RejoinTooEarlyError
        if not role.strip():
            return InvalidDetailsError
        self.periods.append({"joined_on": on, "role": role.strip(), "left_on": None})
        return None

    def leave(self, on: date) -> Outcome:
        if not self.is_member():
            return NotMemberError
        if on < self.periods[-1]["joined_on"]:
            return LeaveBeforeJoinError
        self.periods[-1]["left_on"] = on
        return None

    def attend(self, on: date, today: date) -> Outcome:
        if on > today:
            return AttendanceInFutureError
        covered = [p for p in self.periods if p["joined_on"] <= on and (p["left_on"] or on) >= on]
        if not covered:
            return AttendanceOutsideMembershipError
        if on in self.attended:
            return AlreadyAttendedError
        self.attended.add(on)
        return None

    def change_details(self, name: str | None, email: str | None) -> Outcome:
        if name is not None and not name.strip():
            return InvalidDetailsError
        if email is not None and email.strip() not in VALID_EMAILS:
            return InvalidDetailsError
        new_name = name.strip() if name is not None else self.name
        new_email = email.strip() if email is not None else self.email
        if (new_name, new_email) == (self.name, self.email):
            return NothingChangedError
        self.name, self.email = new_name, new_email
        return None


class HumanLife(RuleBasedStateMachine):
    """One human and its reference model, taking the same commands."""

    human: Human
    model: Reference

    def __init__(self) -> None:
        super().__init__()
        self.recorded: list[Any] = []

    @initialize(name=names.filter(str.strip), email=st.sampled_from(sorted(VALID_EMAILS)))
    def register(self, name: str, email: str) -> None:
        self.human = Human.register(name, email, HumanKind.EMPLOYEE)
        self.model = Reference(name, email)
        self.recorded.extend(self.human.collect_events())

    @rule(on=days, role=roles)
    def join(self, on: date, role: str) -> None:
        self._both(lambda h: h.join(on, role), self.model.join(on, role))

    @rule(on=days, reason=reasons)
    def leave(self, on: date, reason: str | None) -> None:
        self._both(lambda h: h.leave(on, reason), self.model.leave(on))

    @rule(on=days, today=days)
    def attend(self, on: date, today: date) -> None:
        self._both(lambda h: h.attend(on, today=today), self.model.attend(on, today))

    @rule(name=st.none() | names, email=st.none() | emails)
    def change_details(self, name: str | None, email: str | None) -> None:
        self._both(lambda h: h.change_details(name, email), self.model.change_details(name, email))

    def _both(self, command: Callable[[Human], None], expected: Outcome) -> None:
        version = self.human.version
        refused: DomainError | None = None
        try:
            command(self.human)
        except DomainError as error:
            refused = error
        if refused is not None:
            assert type(refused) is expected, f"aggregate refused: {refused!r}; model: {expected}"
            assert self.human.version == version
            assert self.human.pending_events == []
            return
        assert expected is None, f"aggregate accepted, model refused with {expected}"
        new_events = self.human.collect_events()
        assert len(new_events) == 1
        assert self.human.version == version + 1
        self.recorded.extend(new_events)

    @invariant()
    def states_agree(self) -> None:
        human, model = self.human, self.model
        assert human.version == len(self.recorded)
        assert (human.name, human.email, human.status) == (model.name, model.email, model.status())
        periods = [(m.joined_on, m.role, m.left_on) for m in human.memberships]
        assert periods == [(p["joined_on"], p["role"], p["left_on"]) for p in model.periods]
        assert human.attended_days == model.attended

    @invariant()
    def replaying_the_events_rebuilds_the_same_human(self) -> None:
        replayed: Any = self.recorded[0].mutate(None)
        for event in self.recorded[1:]:
            replayed = event.mutate(replayed)
        assert replayed == self.human


HumanLife.TestCase.settings = settings(
    max_examples=150,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_a_human_life_follows_the_reference_rules = HumanLife.TestCase
