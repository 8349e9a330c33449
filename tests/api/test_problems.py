"""The one error table: every error kind maps to its status, stable type, and field."""

from __future__ import annotations

import logging
from datetime import date
from uuid import uuid4

import eventsourcing.persistence as es
import psycopg
import psycopg_pool
import pytest
from litestar.exceptions import (
    ClientException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)

from hot.api.problems import problem_for
from hot.application.personal import PersonalKeyMissingError
from hot.domain import (
    AlreadyAttendedError,
    AlreadyMemberError,
    AttendanceInFutureError,
    AttendanceOutsideMembershipError,
    ConflictError,
    EmailTakenError,
    ExternalIdTakenError,
    HumanExistsError,
    HumanForgottenError,
    HumanNotFoundError,
    IdempotencyKeyReusedError,
    InvalidDetailsError,
    InvalidEnvelopeError,
    InvalidQueryError,
    LeaveBeforeJoinError,
    NothingChangedError,
    NotMemberError,
    RejoinTooEarlyError,
    VersionMismatchError,
    VersionNotFoundError,
)

DAY = date(2026, 1, 5)

TABLE = [
    # (error, status, rule, field)
    (HumanNotFoundError(uuid4()), 404, "human-not-found", None),
    (VersionNotFoundError(uuid4(), 9), 404, "version-not-found", None),
    (HumanForgottenError(uuid4()), 410, "human-forgotten", None),
    (InvalidDetailsError("email", "not an email"), 422, "invalid-details", "email"),
    (InvalidQueryError("limit", "too large"), 400, "invalid-query", "limit"),
    (EmailTakenError("a@b.cd"), 409, "email-taken", None),
    (ExternalIdTakenError("ecode"), 409, "external-id-taken", None),
    (HumanExistsError(uuid4()), 409, "human-exists", None),
    (AlreadyMemberError(DAY), 409, "already-member", None),
    (RejoinTooEarlyError(DAY, DAY), 409, "rejoin-before-last-membership-ended", None),
    (NotMemberError(), 409, "not-member", None),
    (LeaveBeforeJoinError(DAY, DAY), 409, "leave-before-join", None),
    (AttendanceInFutureError(DAY, DAY), 409, "attendance-in-future", None),
    (AttendanceOutsideMembershipError(DAY), 409, "attendance-outside-membership", None),
    (AlreadyAttendedError(DAY), 409, "already-attended", None),
    (NothingChangedError(), 409, "nothing-changed", None),
    (VersionMismatchError(1, 2), 412, "version-mismatch", None),
    (ConflictError(uuid4()), 409, "conflict", None),
    (IdempotencyKeyReusedError("k"), 422, "idempotency-key-reused", None),
    (InvalidEnvelopeError("payload.on", "bad"), 422, "invalid-envelope", "payload.on"),
    (psycopg.OperationalError("down"), 503, "database-unavailable", None),
    (psycopg_pool.PoolTimeout("no connection"), 503, "database-unavailable", None),
    (es.OperationalError("down"), 503, "database-unavailable", None),
    (es.InterfaceError("closed"), 503, "database-unavailable", None),
    (NotAuthorizedException("no token"), 401, "unauthorized", None),
    (PermissionDeniedException("no scope"), 403, "forbidden", None),
    (NotFoundException(), 404, "not-found", None),
    (MethodNotAllowedException(), 405, "method-not-allowed", None),
    (ClientException("Input data was truncated"), 400, "malformed-request", None),
    (
        ValidationException(extra=[{"message": "bad", "key": "on"}]),
        422,
        "invalid-body",
        "on",
    ),
    (
        ValidationException(
            extra=[{"message": "Invalid UUID", "key": "human_id", "source": "path"}]
        ),
        400,
        "invalid-request",
        "human_id",
    ),
    (
        ValidationException(extra=[{"message": "'data'", "key": "data"}]),
        422,
        "invalid-body",
        "body",
    ),
    (RecursionError("while deserializing an object"), 400, "malformed-request", None),
    (PersonalKeyMissingError(uuid4()), 500, "personal-key-missing", None),
    (RuntimeError("a bug"), 500, "internal-error", None),
]


@pytest.mark.parametrize(
    ("error", "status", "rule", "field"), TABLE, ids=[type(row[0]).__name__ for row in TABLE]
)
def test_every_error_has_its_status_and_a_stable_type(
    error: Exception, status: int, rule: str, field: str | None
) -> None:
    problem = problem_for(error)

    body = problem.body()
    assert (problem.status, body["type"], body["rule"], body.get("field")) == (
        status,
        f"urn:hot:problem:{rule}",
        rule,
        field,
    )
    assert body["title"]
    assert body["detail"]
    assert body["status"] == status


def test_unavailable_database_says_when_to_retry() -> None:
    assert problem_for(psycopg.OperationalError("down")).headers["Retry-After"].isdigit()


def test_a_missing_token_asks_for_a_bearer_token() -> None:
    headers = problem_for(NotAuthorizedException("no token")).headers
    assert headers["WWW-Authenticate"].startswith("Bearer")


def test_an_internal_error_does_not_leak_its_message() -> None:
    assert "secret" not in problem_for(RuntimeError("secret")).detail


def test_a_missing_personal_key_is_a_server_fault_logged_as_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    human_id = uuid4()

    with caplog.at_level(logging.ERROR, logger="hot.api.problems"):
        problem = problem_for(PersonalKeyMissingError(human_id))

    assert problem.status == 500
    assert "key" in problem.title.lower()
    assert "server" in problem.title.lower()
    assert problem.title != problem_for(RuntimeError("a bug")).title
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(str(human_id) in message for message in errors)
