"""The headers that make commands conditional and safe to retry: If-Match, Idempotency-Key.

``ETag`` is a human's version, quoted (``"3"``); ``If-Match: "3"`` makes a command
about that human fail with 412 if the human is no longer at version 3. An
``Idempotency-Key`` names one request; its fingerprint hashes the method, the path
and the canonical body, so the same key with another request is told apart.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from litestar import Request
from pydantic import BaseModel

from hot.application import Idempotency
from hot.domain import InvalidQueryError

_ETAG = re.compile(r'"(\d{1,18})"')
_KEY = re.compile(r"[\x21-\x7e]{1,255}")  # visible ASCII, as in a header token


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(value: str | None) -> int | None:
    """The version named by an ``If-Match`` value (``*`` or absent: any), or 400."""
    if value is None or value.strip() == "*":
        return None
    match = _ETAG.fullmatch(value.strip())
    if match is None:
        raise InvalidQueryError(
            "If-Match", 'If-Match must be one ETag of this API, such as "3" (with the quotes).'
        )
    return int(match.group(1))


def idempotency(
    key: str | None, request: Request[Any, Any, Any], body: BaseModel | None
) -> Idempotency | None:
    """The ``Idempotency-Key`` with the request's fingerprint, or None without a key."""
    if key is None:
        return None
    if not _KEY.fullmatch(key):
        raise InvalidQueryError(
            "Idempotency-Key", "Idempotency-Key must be 1 to 255 visible ASCII characters."
        )
    return Idempotency(key, fingerprint(request.method, request.url.path, body))


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """A hash of what a request asks: equal for retries, different for other requests."""
    content = body.model_dump(mode="json") if body is not None else None
    canonical = json.dumps([method.upper(), path, content], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
