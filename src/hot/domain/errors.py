"""The rules a command can break, each a named error.

    DomainError
    ├── HumanNotFoundError          the command names no known human
    ├── HumanForgottenError         the human was forgotten: nothing more is accepted
    │   └── VersionNotFoundError    ... or not at the version asked for
    ├── InvalidDetailsError         a name or email that cannot be one (every such value named)
    ├── InvalidQueryError           a query's arguments are out of range
    ├── RuleViolationError          the human exists, but the rule forbids the transition
    │   ├── HumanExistsError
    │   ├── EmailTakenError
    │   ├── ExternalIdTakenError
    │   ├── AlreadyMemberError
    │   ├── RejoinTooEarlyError
    │   ├── NotMemberError
    │   ├── LeaveBeforeJoinError
    │   ├── AttendanceInFutureError
    │   ├── AttendanceOutsideMembershipError
    │   ├── AlreadyAttendedError
    │   └── NothingChangedError
    ├── IdempotencyKeyReusedError   a key sent again with another request
    ├── InvalidEnvelopeError        a posted envelope that the catalog does not describe
    ├── EventTypeError              the open catalog's rules refuse a request
    │   ├── InvalidEventTypeError   a name, description, owner or mode that cannot be one
    │   ├── EventTypeExistsError
    │   ├── EventTypeNotFoundError
    │   ├── EventVersionNotFoundError
    │   ├── EventVersionDeprecatedError
    │   ├── IncompatibleSchemaError a new version that breaks the type's mode
    │   ├── InvalidSchemaError      a schema or upcast HoT cannot accept
    │   └── InvalidPayloadError     a team event's payload that fails its schema
    └── ConcurrencyError            someone else wrote first
        ├── VersionMismatchError    the caller expected another version
        ├── EventVersionTakenError  a type's version registered as a number now taken
        └── ConflictError           a race lost, and the caller asked not to retry

Every rule error has a stable ``rule`` slug, so that clients can tell them apart.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID


class DomainError(Exception):
    """Base class of every error a command or query can raise by its rules."""

    rule = "domain-error"


class HumanNotFoundError(DomainError):
    """No human has this id (or had it at the version or instant asked for)."""

    rule = "human-not-found"

    def __init__(self, human_id: UUID) -> None:
        super().__init__(f"No human with id {human_id}.")
        self.human_id = human_id


class InvalidDetailsError(DomainError):
    """A value that the domain cannot accept whatever the state, e.g. a blank name.

    ``problems`` names every value of the command refused (field, message), this one
    first: a command with a blank name and a malformed email is told of both at once.
    """

    rule = "invalid-details"

    def __init__(self, field: str, message: str, *, more: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(" ".join([message, *(text for _, text in more)]))
        self.field = field
        self.problems: tuple[tuple[str, str], ...] = ((field, message), *more)

    @classmethod
    def together(cls, errors: Sequence[InvalidDetailsError]) -> InvalidDetailsError:
        """One error naming every problem of ``errors`` (at least one), in their order."""
        (field, message), *more = [problem for error in errors for problem in error.problems]
        return cls(field, message, more=more)


class RuleViolationError(DomainError):
    """The human exists, but its state forbids what the command asks."""

    rule = "rule-violation"


class EmailTakenError(RuleViolationError):
    rule = "email-taken"

    def __init__(self, email: str) -> None:
        super().__init__(f"The email {email!r} belongs to another human.")


class ExternalIdTakenError(RuleViolationError):
    rule = "external-id-taken"

    def __init__(self, scheme: str) -> None:
        # The value is personal data: the problem names the scheme only.
        super().__init__(f"The given {scheme} id belongs to another human.")
        self.scheme = scheme


class AlreadyMemberError(RuleViolationError):
    rule = "already-member"

    def __init__(self, joined_on: date) -> None:
        super().__init__(f"The human is already a member (joined on {joined_on}).")


class RejoinTooEarlyError(RuleViolationError):
    rule = "rejoin-before-last-membership-ended"

    def __init__(self, on: date, left_on: date) -> None:
        super().__init__(
            f"Cannot join on {on}: the last membership ended on {left_on}; "
            "a new one must start after that."
        )


class NotMemberError(RuleViolationError):
    rule = "not-member"

    def __init__(self) -> None:
        super().__init__("The human is not a member, so cannot leave.")


class LeaveBeforeJoinError(RuleViolationError):
    rule = "leave-before-join"

    def __init__(self, on: date, joined_on: date) -> None:
        super().__init__(f"Cannot leave on {on}: the membership started on {joined_on}.")


class AttendanceInFutureError(RuleViolationError):
    rule = "attendance-in-future"

    def __init__(self, on: date, today: date) -> None:
        super().__init__(f"Cannot attend on {on}: it is after today ({today}).")


class AttendanceOutsideMembershipError(RuleViolationError):
    rule = "attendance-outside-membership"

    def __init__(self, on: date) -> None:
        super().__init__(f"Cannot attend on {on}: the human was not a member on that day.")


class AlreadyAttendedError(RuleViolationError):
    rule = "already-attended"

    def __init__(self, on: date) -> None:
        super().__init__(f"The human's attendance on {on} is already recorded.")


class NothingChangedError(RuleViolationError):
    rule = "nothing-changed"

    def __init__(self) -> None:
        super().__init__("The details given are the human's current details: nothing to change.")


class ConcurrencyError(DomainError):
    """Another write reached the human first."""

    rule = "concurrency"


class VersionMismatchError(ConcurrencyError):
    rule = "version-mismatch"

    def __init__(self, expected: int, actual: int) -> None:
        super().__init__(f"Expected version {expected}, but the human is at version {actual}.")
        self.expected = expected
        self.actual = actual


class ConflictError(ConcurrencyError):
    rule = "conflict"

    def __init__(self, human_id: UUID) -> None:
        super().__init__(f"Another write to human {human_id} committed first.")
        self.human_id = human_id


class HumanExistsError(RuleViolationError):
    rule = "human-exists"

    def __init__(self, human_id: UUID) -> None:
        super().__init__(f"A human with id {human_id} is already registered.")
        self.human_id = human_id


class VersionNotFoundError(HumanNotFoundError):
    rule = "version-not-found"

    def __init__(self, human_id: UUID, version: int) -> None:
        DomainError.__init__(self, f"Human {human_id} has no version {version}.")
        self.human_id = human_id
        self.version = version


class InvalidQueryError(DomainError):
    """A query asked for something out of range (a page too large, an unknown name)."""

    rule = "invalid-query"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class IdempotencyKeyReusedError(DomainError):
    """An idempotency key came back with another request than the one it first named."""

    rule = "idempotency-key-reused"

    def __init__(self, key: str) -> None:
        super().__init__(
            f"The idempotency key {key!r} was already used for a different request; "
            "use a new key for a new request."
        )
        self.key = key


class InvalidEnvelopeError(DomainError):
    """A posted event envelope does not match the catalog (name, version or payload)."""

    rule = "invalid-envelope"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class HumanForgottenError(DomainError):
    """The human was forgotten at their request; no further command is accepted."""

    rule = "human-forgotten"

    def __init__(self, human_id: UUID) -> None:
        super().__init__(f"Human {human_id} was forgotten; no further command is accepted.")
        self.human_id = human_id


class EventTypeError(DomainError):
    """A request about the open catalog that its rules refuse (see ``EventTypeDefinition``)."""

    rule = "event-type-error"


class InvalidEventTypeError(EventTypeError):
    """A type's name, description, owner or compatibility that cannot be one."""

    rule = "invalid-event-type"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class EventTypeExistsError(EventTypeError):
    rule = "event-type-exists"

    def __init__(self, name: str) -> None:
        super().__init__(f"The event type {name} is registered already.")
        self.name = name


class EventTypeNotFoundError(EventTypeError):
    rule = "event-type-not-found"

    def __init__(self, name: str) -> None:
        super().__init__(f"No event type is named {name}: register it with POST /catalog/types.")
        self.name = name


class EventVersionNotFoundError(EventTypeError):
    rule = "event-version-not-found"

    def __init__(self, name: str, version: int, current: int | None) -> None:
        now = f"its current version is {current}" if current else "it has no version yet"
        super().__init__(f"{name} has no version {version}; {now}.")
        self.name, self.version, self.current = name, version, current


class EventVersionTakenError(ConcurrencyError):
    """A version was to be registered as number ``expected``, and that number is taken."""

    rule = "event-version-taken"

    def __init__(self, name: str, expected: int, next_version: int) -> None:
        super().__init__(
            f"{name} version {expected} is taken (or out of turn): the next version is "
            f"{next_version}. Read the type again, and judge whether yours is still wanted."
        )
        self.expected, self.next_version = expected, next_version


class EventVersionDeprecatedError(EventTypeError):
    rule = "event-version-deprecated"

    def __init__(self, name: str, version: int, current: int | None) -> None:
        now = f"post version {current}" if current else "every version is deprecated"
        super().__init__(f"{name} version {version} is deprecated: {now}.")
        self.name, self.version, self.current = name, version, current


class IncompatibleSchemaError(EventTypeError):
    """A new version breaks the type's compatibility mode; ``errors``: (path, reason)."""

    rule = "incompatible-schema"

    def __init__(self, name: str, mode: str, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__(
            f"The new version of {name} breaks its {mode} compatibility: "
            + "; ".join(f"{path}: {reason}" for path, reason in errors)
        )
        self.errors = tuple(errors)


class InvalidSchemaError(EventTypeError):
    """A payload schema (or upcast) that HoT cannot accept: ``path`` says where."""

    rule = "invalid-schema"

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}" if path else reason)
        self.path, self.reason = path, reason


class InvalidPayloadError(EventTypeError):
    """A team event's payload that fails its schema; ``errors``: every (path, message)."""

    rule = "invalid-payload"

    def __init__(self, errors: Sequence[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{path}: {message}" for path, message in errors))
        self.errors = tuple(errors)
