"""Value objects of the human domain: kinds, memberships, and the checks on names and emails."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import TypeVar

from hot.domain.errors import InvalidDetailsError
from hot_follow.representation import FORGOTTEN as FORGOTTEN  # the read contract's

T = TypeVar("T")
V = TypeVar("V")

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
EXTERNAL_ID_SCHEME = r"^[a-z][a-z0-9_-]{0,31}$"
"""What an external id's scheme is (``ecode``, ``github``): the one statement of it."""
MAX_EXTERNAL_ID = 128  # characters of an external id's value
# Characters no text of HoT may hold: control characters (NUL cannot even be stored in
# a PostgreSQL text column, so a follower's projection could never hold it); a free
# text keeps its line breaks and tabs.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_FREE_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_UNSEEN = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me"})  # no glyph of their own


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
    """A human's name, trimmed; blank names (nothing visible, a zero-width space say) and
    control characters are refused."""
    return _checked_line("name", "A name", name)


def _checked_line(field: str, what: str, text: str) -> str:
    """``text`` trimmed: one line of visible characters, else ``InvalidDetailsError``."""
    trimmed = text.strip()
    if _CONTROL.search(trimmed):
        raise InvalidDetailsError(field, f"{what} must not contain control characters.")
    if all(unicodedata.category(c) in _UNSEEN for c in trimmed):
        raise InvalidDetailsError(field, f"{what} must not be blank.")
    return trimmed


def checked_free_text(field: str, text: str) -> str | None:
    """A free text (a reason) trimmed, None if blank; control characters but line breaks
    and tabs are refused."""
    trimmed = text.strip()
    if _CONTROL_IN_FREE_TEXT.search(trimmed):
        raise InvalidDetailsError(field, f"The {field} must not contain control characters.")
    return trimmed or None


def checked_email(email: str) -> str:
    """An email address, trimmed; what cannot be an address is refused."""
    trimmed = email.strip()
    if _CONTROL.search(trimmed) or not _EMAIL.match(trimmed):
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
    """A membership's role, trimmed; blank roles and control characters are refused."""
    return _checked_line("role", "A role", role)


def checked_scheme(scheme: str) -> str:
    """An external id's scheme: lowercase, as ``EXTERNAL_ID_SCHEME`` says, or refused."""
    if not re.fullmatch(EXTERNAL_ID_SCHEME, scheme):
        raise InvalidDetailsError(
            "scheme",
            f"{scheme!r} is not a scheme: a lowercase letter, then up to 31 lowercase "
            "letters, digits, '_' or '-'.",
        )
    return scheme


def checked_external_id(value: str) -> str:
    """An external id's value, trimmed: 1 to ``MAX_EXTERNAL_ID`` visible characters, no
    control characters. Compared exactly (``E123`` and ``e123`` are two ids)."""
    trimmed = _checked_line("value", "An external id", value)
    if len(trimmed) > MAX_EXTERNAL_ID:
        raise InvalidDetailsError(
            "value", f"An external id has at most {MAX_EXTERNAL_ID} characters, not {len(trimmed)}."
        )
    return trimmed
