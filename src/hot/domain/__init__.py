"""The human domain: pure Python and ``eventsourcing.domain``; no HTTP, SQL or Redis."""

from hot.domain.email_claim import EmailClaim
from hot.domain.errors import (
    AlreadyAttendedError,
    AlreadyMemberError,
    AttendanceInFutureError,
    AttendanceOutsideMembershipError,
    ConcurrencyError,
    ConflictError,
    DomainError,
    EmailTakenError,
    HumanExistsError,
    HumanNotFoundError,
    InvalidDetailsError,
    InvalidQueryError,
    LeaveBeforeJoinError,
    NothingChangedError,
    NotMemberError,
    RejoinTooEarlyError,
    RuleViolationError,
    VersionMismatchError,
    VersionNotFoundError,
)
from hot.domain.human import HUMAN_EVENT_CLASSES, Human
from hot.domain.values import HumanKind, Membership

__all__ = [
    "HUMAN_EVENT_CLASSES",
    "AlreadyAttendedError",
    "AlreadyMemberError",
    "AttendanceInFutureError",
    "AttendanceOutsideMembershipError",
    "ConcurrencyError",
    "ConflictError",
    "DomainError",
    "EmailClaim",
    "EmailTakenError",
    "Human",
    "HumanExistsError",
    "HumanKind",
    "HumanNotFoundError",
    "InvalidDetailsError",
    "InvalidQueryError",
    "LeaveBeforeJoinError",
    "Membership",
    "NotMemberError",
    "NothingChangedError",
    "RejoinTooEarlyError",
    "RuleViolationError",
    "VersionMismatchError",
    "VersionNotFoundError",
]
