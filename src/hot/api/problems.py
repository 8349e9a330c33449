"""The one map from every error to an HTTP status and an RFC 9457 problem.

Every error response of the API is ``application/problem+json``:
``{"type", "title", "status", "detail"}`` plus ``rule`` (the stable slug that ``type``
ends with) and, where one input is to blame, ``field``. ``type`` is
``urn:hot:problem:<rule>`` and never changes for a kind of error. A body, path or
query that fails validation (``invalid-body``, ``invalid-request``) and values the
domain refuses (``invalid-details``) also list every one of them in ``errors``
(``[{"field", "message"}]``), ``field`` and ``detail`` naming the first.

    domain errors          status from ``DOMAIN_STATUS`` (by the error's class), rule = its .rule
    Litestar HTTP errors   their own status; validation errors name the field
    RecursionError         400: only a body nested too deeply gets the decoder there
    database unreachable   503 with Retry-After (HoT reconnects by itself)
    personal key missing   500 personal-key-missing, logged as an error (the key table was lost)
    anything else          500 internal-error, logged (a bug: never a client's mistake)
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import eventsourcing.persistence as es
import psycopg
from litestar import Request, Response
from litestar.exceptions import (
    HTTPException,
    MethodNotAllowedException,
    NotAuthorizedException,
    NotFoundException,
    PermissionDeniedException,
    ValidationException,
)
from litestar.types import ExceptionHandlersMap

from hot.api.observing import count_invalid_command
from hot.api.params import HEADER_FORMATS, MAX_BODY_BYTES
from hot.application.errors import DeadlineExceededError
from hot.application.personal import PersonalKeyMissingError
from hot.domain import (
    ConcurrencyError,
    ConflictError,
    DomainError,
    HumanForgottenError,
    HumanNotFoundError,
    IdempotencyKeyReusedError,
    InvalidDetailsError,
    InvalidEnvelopeError,
    InvalidQueryError,
    RuleViolationError,
    VersionMismatchError,
)
from hot.domain.errors import (
    EventTypeError,
    EventTypeExistsError,
    EventTypeNotFoundError,
    EventVersionDeprecatedError,
    EventVersionNotFoundError,
    IncompatibleSchemaError,
    InvalidPayloadError,
    InvalidSchemaError,
)

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 2

# By class; a subclass not listed takes the status of its nearest listed ancestor.
DOMAIN_STATUS: dict[type[DomainError], int] = {
    DomainError: 400,
    HumanNotFoundError: 404,  # and VersionNotFoundError
    HumanForgottenError: 410,  # gone for good: every command about them
    InvalidDetailsError: 422,
    InvalidQueryError: 400,
    InvalidEnvelopeError: 422,
    IdempotencyKeyReusedError: 422,
    RuleViolationError: 409,  # every named rule
    ConcurrencyError: 409,
    ConflictError: 409,
    VersionMismatchError: 412,
    EventTypeError: 422,  # a type, schema or payload the open catalog refuses
    EventTypeExistsError: 409,
    EventTypeNotFoundError: 404,
    EventVersionNotFoundError: 404,
    EventVersionDeprecatedError: 410,  # gone for posting: the problem names the current one
    IncompatibleSchemaError: 409,
}

DATABASE_UNAVAILABLE: tuple[type[Exception], ...] = (
    psycopg.OperationalError,  # includes psycopg_pool.PoolTimeout
    es.OperationalError,  # includes ConnectionUnavailableError
    es.InterfaceError,
    DeadlineExceededError,
)

# Litestar's own errors that have a name of ours.
HTTP_RULES: dict[type[HTTPException], str] = {
    NotAuthorizedException: "unauthorized",
    PermissionDeniedException: "forbidden",
    NotFoundException: "not-found",
    MethodNotAllowedException: "method-not-allowed",
}


@dataclass(frozen=True)
class Problem:
    """An RFC 9457 problem, before it becomes a response."""

    status: int
    rule: str
    detail: str
    field: str | None = None
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    extensions: dict[str, Any] = dataclasses.field(default_factory=dict)
    summary: str | None = None  # the title, where the rule's words do not say enough

    @property
    def type(self) -> str:
        return f"urn:hot:problem:{self.rule}"

    @property
    def title(self) -> str:
        return self.summary or self.rule.replace("-", " ").capitalize()

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": self.type,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "rule": self.rule,
        }
        if self.field is not None:
            body["field"] = self.field
        return body | self.extensions


def problem_for(exc: Exception) -> Problem:
    """The problem that describes ``exc``: the whole error table, in one function."""
    if isinstance(exc, DomainError):
        status = next(DOMAIN_STATUS[c] for c in type(exc).__mro__ if c in DOMAIN_STATUS)
        extensions: dict[str, Any] = {}
        if isinstance(exc, InvalidDetailsError):  # every value refused, as a bad body lists
            extensions["errors"] = [{"field": f, "message": text} for f, text in exc.problems]
        extensions |= _catalog_extensions(exc)
        return Problem(
            status, exc.rule, str(exc), getattr(exc, "field", None), extensions=extensions
        )
    if isinstance(exc, ValidationException):
        return _validation_problem(exc)
    if isinstance(exc, HTTPException):
        return _http_problem(exc)
    if isinstance(exc, RecursionError):  # the JSON decoder, on a body nested too deeply
        log.warning("request refused: %s", exc)
        return Problem(400, "malformed-request", "The body is nested too deeply.")
    if isinstance(exc, UnicodeDecodeError):  # the JSON decoder, on a string not UTF-8
        return Problem(
            400, "malformed-request", "The body is not UTF-8 (JSON text must be).", "body"
        )
    if isinstance(exc, DATABASE_UNAVAILABLE):
        log.warning("database unavailable: %s", exc)
        return Problem(
            503,
            "database-unavailable",
            "The database cannot be reached right now; retry shortly "
            "(a command retried with the same Idempotency-Key is recorded at most once).",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
    if isinstance(exc, PersonalKeyMissingError):
        # Not a client's mistake, nor a bug: data the server needs is gone. Loudly.
        log.error("PERSONAL DATA KEY MISSING: %s", exc, exc_info=exc)
        return Problem(
            500,
            exc.rule,
            "Personal data stored here cannot be read: its key is missing from the server's "
            "key table (it was never destroyed). Operators have been alerted by the log.",
            summary="Server fault: a personal-data key is missing",
        )
    log.exception("unexpected error", exc_info=exc)
    return Problem(500, "internal-error", "An unexpected error occurred; it has been logged.")


def _catalog_extensions(exc: DomainError) -> dict[str, Any]:
    """What a catalog problem adds: each breaking change or failing path in ``errors``,
    the version to post instead of one deprecated or unknown (``current``)."""
    if isinstance(exc, IncompatibleSchemaError):
        return {"errors": [{"path": path, "reason": reason} for path, reason in exc.errors]}
    if isinstance(exc, InvalidPayloadError):
        return {
            "errors": [{"path": _in_payload(path), "message": text} for path, text in exc.errors]
        }
    if isinstance(exc, InvalidSchemaError):
        return {"errors": [{"path": exc.path, "reason": exc.reason}]}
    if isinstance(exc, EventVersionDeprecatedError | EventVersionNotFoundError):
        return {"current": exc.current}
    return {}


def _in_payload(path: str) -> str:
    """A payload's path as the envelope shows it (``payload.issues.0``)."""
    return f"payload.{path}" if path else "payload"


def _http_problem(exc: HTTPException) -> Problem:
    rule = next(
        (HTTP_RULES[c] for c in type(exc).__mro__ if c in HTTP_RULES),
        "malformed-request" if exc.status_code == 400 else f"http-{exc.status_code}",
    )
    headers = dict(exc.headers or {})
    if exc.status_code == 413:
        return Problem(
            413,
            "body-too-large",
            f"The body is larger than {MAX_BODY_BYTES} bytes, the most a request may send.",
            "body",
            headers=headers,
            extensions={"limit": MAX_BODY_BYTES},
        )
    if exc.status_code == 415:
        return Problem(415, "unsupported-media-type", str(exc.detail), "Content-Type")
    if exc.status_code == 401:
        headers.setdefault("WWW-Authenticate", 'Bearer realm="hot"')
    return Problem(exc.status_code, rule, str(exc.detail), headers=headers)


def _validation_problem(exc: ValidationException) -> Problem:
    """Bad input: a body of the wrong shape is 422, a bad path, query or header 400."""
    errors = [e for e in (exc.extra or []) if isinstance(e, dict)]
    if not errors:
        return Problem(400, "malformed-request", str(exc.detail))
    first = errors[0]
    source = first.get("source", "body")
    if source == "body" and first.get("key") in (None, "", "data"):  # not a JSON object
        return Problem(422, "invalid-body", "The body must be a JSON object.", "body")
    listed = [_named(e) for e in errors]
    rule = "invalid-body" if source == "body" else "invalid-request"
    status = 422 if source == "body" else 400
    key, message = listed[0]["field"], listed[0]["message"]
    return Problem(status, rule, f"{key}: {message}", key, extensions={"errors": listed})


def _named(error: dict[str, Any]) -> dict[str, str]:
    """One refused value, named as the client sent it (a header by its own name, not
    Litestar's parameter name), and its format in words, not as a regex."""
    key, message = str(error.get("key") or ""), str(error.get("message"))
    if error.get("source") == "header":
        key = "-".join(part.capitalize() for part in key.split("_"))
        if key in HEADER_FORMATS and "regex" in message:
            message = f"Expected {HEADER_FORMATS[key]}."
    return {"field": key, "message": message}


def problem_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The Litestar exception handler for every error."""
    problem = problem_for(exc)
    count_invalid_command(request, exc, problem.status)
    return Response(
        content=problem.body(),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {Exception: problem_response}
__all__ = ["EXCEPTION_HANDLERS", "PROBLEM_JSON", "Problem", "problem_for", "problem_response"]
