"""What the commands that write over HTTP share: ``--url`` and ``--token``, and how an
answer reads (RFC 9457 problems, a refused token, a server worth retrying).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import httpx

DEFAULT_URL = "http://127.0.0.1:8000"
MOST_RETRY_AFTER = 60.0  # seconds: a longer Retry-After is waited this long

F = TypeVar("F", bound=Callable[..., Any])


def api_options(scope: str) -> Callable[[F], F]:
    """``--url`` (``HOT_API_URL``) and ``--token`` (``HOT_TOKEN``, with ``scope``)."""

    def decorate(command: F) -> F:
        command = click.option(
            "--token",
            envvar="HOT_TOKEN",
            required=True,
            help=f"The API token, with scope {scope} (or HOT_TOKEN).",
        )(command)
        return click.option(
            "--url",
            envvar="HOT_API_URL",
            default=DEFAULT_URL,
            show_default=True,
            help="The HoT API's URL (or HOT_API_URL).",
        )(command)

    return decorate


@dataclass(frozen=True)
class Problem:
    """What a refusal says: its title and detail, and each value it names (``errors``)."""

    status: int
    type: str
    title: str
    detail: str
    errors: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.title}: {self.detail}" if self.detail else self.title


def problem_of(response: httpx.Response) -> Problem:
    """The RFC 9457 problem ``response`` carries; its status and body if it carries none."""
    try:
        body = response.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        text = response.text.strip()[:200]
        return Problem(response.status_code, "", f"HTTP {response.status_code}", text)
    return Problem(
        status=response.status_code,
        type=str(body.get("type", "")),
        title=str(body.get("title") or f"HTTP {response.status_code}"),
        detail=str(body.get("detail") or ""),
        errors=listed_errors(body),
    )


def listed_errors(body: dict[str, Any]) -> tuple[str, ...]:
    """Each error a body lists in ``errors``, as ``where: why``."""
    errors = body.get("errors")
    return tuple(_error_line(e) for e in errors) if isinstance(errors, list) else ()


def _error_line(error: Any) -> str:
    """One listed error: ``{"field", "message"}`` (HoT's bodies) or ``{"path", "reason"}``
    (schema compatibility), as ``where: why``."""
    if not isinstance(error, dict):
        return str(error)
    where = error.get("field", error.get("path", ""))
    why = error.get("message", error.get("reason", ""))
    return f"{where}: {why}" if where else str(why)


def refused_token(response: httpx.Response, scope: str) -> click.ClickException:
    """The error of a 401 or 403: retrying cannot help, the token must change."""
    problem = problem_of(response)
    if response.status_code == 401:
        return click.ClickException(f"the API refused the token (401 {problem}); check --token")
    return click.ClickException(f"the token lacks the {scope} scope (403 {problem})")


def worth_retrying(response: httpx.Response) -> bool:
    """A server error or 429: the same request may succeed later."""
    return response.status_code == 429 or response.status_code >= 500


def retry_after(response: httpx.Response) -> float | None:
    """The seconds the answer's ``Retry-After`` asks to wait (at most ``MOST_RETRY_AFTER``)."""
    try:
        seconds = float(response.headers.get("retry-after", ""))
    except ValueError:
        return None
    return min(max(seconds, 0.0), MOST_RETRY_AFTER)
