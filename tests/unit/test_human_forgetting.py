"""Forgetting a human: accepted once, and afterwards no command is, given events / when / then."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest

from hot.domain import FORGOTTEN, Human, HumanForgottenError
from tests.unit.steps import attended, given, joined, left, registered, then_events, then_rejected

JAN_5 = date(2026, 1, 5)


def forgotten(by: str = "ops") -> tuple[type[Human.Event], dict[str, str]]:
    return Human.Forgotten, {"by": by}


def test_a_human_is_forgotten_and_keeps_the_facts() -> None:
    human = given(registered(), joined(JAN_5), attended(JAN_5), left(date(2026, 2, 1), "moved"))

    human.forget("ops")

    assert then_events(human) == [forgotten("ops")]
    assert (human.name, human.email, human.forgotten) == (FORGOTTEN, FORGOTTEN, True)
    assert (human.status, human.attended_days) == ("former", {JAN_5})


@pytest.mark.parametrize(
    "command",
    [
        lambda h: h.forget("ops"),
        lambda h: h.join(date(2026, 3, 1), "engineer"),
        lambda h: h.leave(date(2026, 3, 1)),
        lambda h: h.attend(JAN_5, today=date(2026, 3, 1)),
        lambda h: h.change_details(name="Someone"),
    ],
    ids=["forget", "join", "leave", "attend", "change_details"],
)
def test_a_forgotten_human_accepts_no_command(command: Callable[[Human], None]) -> None:
    human = given(registered(), joined(JAN_5), forgotten())

    then_rejected(human, HumanForgottenError, command)
