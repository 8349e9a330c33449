"""Value objects of the human domain: kinds, memberships, and the checks on names and emails."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from hot.domain.errors import InvalidDetailsError

FORGOTTEN = "(forgotten)"
"""What a personal field reads as once its human is forgotten."""

T = TypeVar("T")
V = TypeVar("V")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")


class HumanKind(StrEnum):
    """How a human relates to Trantor: humans, not just employees."""

    EMPLOYEE = "employee"
    CONTRACTOR = "contractor"
    INTERN = "intern"
    VISITOR = "visitor"
    CANDIDATE = "candidate"
    ALUMNUS = "alumnus"
    GUEST = "guest"
    OTHER = "other"


@dataclass(frozen=True)
class Membership:
    """One period of membership: from ``joined_on`` to ``left_on`` (inclusive), or open."""

    joined_on: date
    role: str
    left_on: date | None = None

    def covers(self, day: date) -> bool:
        return self.joined_on <= day and (self.left_on is None or day <= self.left_on)

    def closed(self, left_on: date) -> Membership:
        return Membership(self.joined_on, self.role, left_on)


def checked_name(name: str) -> str:
    """A human's name, trimmed; blank names are refused."""
    trimmed = name.strip()
    if not trimmed:
        raise InvalidDetailsError("name", "A name must not be blank.")
    return trimmed


def checked_email(email: str) -> str:
    """An email address, trimmed; what cannot be an address is refused."""
    trimmed = email.strip()
    if not _EMAIL.match(trimmed):
        raise InvalidDetailsError("email", f"{email!r} is not an email address.")
    return trimmed


def normalised_email(email: str) -> str:
    """The form under which an email is unique: emails differ only if this differs."""
    return email.strip().casefold()


def checked_kind(kind: str) -> HumanKind:
    """A kind of human from the known list; anything else is refused, naming the choices."""
    try:
        return HumanKind(kind)
    except ValueError:
        choices = ", ".join(k.value for k in HumanKind)
        raise InvalidDetailsError("kind", f"{kind!r} is not a kind of human ({choices}).") from None


class DetailChecks:
    """Checks several values of one command and refuses them together, so that the
    caller learns of every invalid value at once rather than one per attempt::

        checks = DetailChecks()
        name = checks(checked_name, name, "")
        email = checks(checked_email, email, "")
        checks.done()  # InvalidDetailsError naming both, if both are bad
    """

    def __init__(self) -> None:
        self._failed: list[InvalidDetailsError] = []

    def __call__(self, check: Callable[[V], T], value: V, instead: T) -> T:
        """``check(value)``; if it refuses, ``instead``, which ``done`` keeps from use."""
        try:
            return check(value)
        except InvalidDetailsError as error:
            self._failed.append(error)
            return instead

    def done(self) -> None:
        """Refuse every value that failed its check, in one error."""
        if self._failed:
            raise InvalidDetailsError.together(self._failed)


def checked_role(role: str) -> str:
    trimmed = role.strip()
    if not trimmed:
        raise InvalidDetailsError("role", "A role must not be blank.")
    return trimmed
