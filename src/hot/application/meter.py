"""``Meter``: what the command pipeline and the group committer tell whoever measures them.

The application knows how each command ended and how long each transaction took; it
hands these facts to a ``Meter`` and knows nothing of how they are kept (the
composition root gives it ``hot.infra.metrics``'s, which counts them for Prometheus).
Without one, ``NO_METER`` drops them. Each call is made once per command or per
transaction, on the path that answers it: an implementation must be cheap.

A command's outcome is one word:

    accepted        committed (its answer is its new version and position)
    repeated        an Idempotency-Key or an envelope's id answered before: the first answer
    refused         a named rule of the domain refused it (409)
    not_found       its human or event type does not exist, or was forgotten (404, 410)
    conflict        ``If-Match`` not met, or still losing races after every attempt
    invalid         values the domain refuses (422, 400)
    deadline        no answer within the application's deadline (PostgreSQL slow or down)
    error           anything else: the database down, a bug
"""

from __future__ import annotations

import functools
import re
from typing import Protocol

from hot.application.errors import DeadlineExceededError
from hot.domain import (
    ConcurrencyError,
    DomainError,
    HumanForgottenError,
    HumanNotFoundError,
    RuleViolationError,
)
from hot.domain.errors import EventTypeNotFoundError, EventVersionNotFoundError

ACCEPTED, REPEATED, REFUSED, NOT_FOUND, CONFLICT, INVALID, ERROR, DEADLINE = (
    "accepted", "repeated", "refused", "not_found", "conflict", "invalid", "error", "deadline",
)  # fmt: skip

# By class, the nearest listed ancestor wins; a DomainError not listed is ``invalid``.
_OUTCOMES: dict[type[Exception], str] = {
    RuleViolationError: REFUSED,
    HumanNotFoundError: NOT_FOUND,
    HumanForgottenError: NOT_FOUND,
    EventTypeNotFoundError: NOT_FOUND,
    EventVersionNotFoundError: NOT_FOUND,
    ConcurrencyError: CONFLICT,
    DomainError: INVALID,
    DeadlineExceededError: DEADLINE,
}


class Meter(Protocol):
    """Told how each command ended and of each committed transaction."""

    def command(self, name: str, outcome: str, seconds: float) -> None:
        """A command ``name`` ended with ``outcome`` after ``seconds`` (its turn included)."""

    def race_lost(self, name: str) -> None:
        """A command ``name`` lost a race at commit and is decided again."""

    def transaction(self, commands: int, seconds: float) -> None:
        """A transaction of ``commands`` commands committed in ``seconds`` (its round trip)."""


class _NoMeter:
    def command(self, name: str, outcome: str, seconds: float) -> None:
        pass

    def race_lost(self, name: str) -> None:
        pass

    def transaction(self, commands: int, seconds: float) -> None:
        pass


NO_METER: Meter = _NoMeter()


def outcome_of(error: BaseException) -> str:
    """The outcome of a command that raised ``error``."""
    for cls in type(error).__mro__:
        outcome = _OUTCOMES.get(cls)
        if outcome is not None:
            return outcome
    return ERROR


@functools.cache
def command_name(command_type: type) -> str:
    """A command's name in metrics: its class's, in snake case (``ChangeDetails``:
    ``change_details``)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", command_type.__name__).lower()
