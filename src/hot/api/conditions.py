"""The headers that make commands conditional and safe to retry: If-Match, Idempotency-Key.

``ETag`` is a human's version, quoted (``"3"``); ``If-Match: "3"`` makes a command
about that human fail with 412 if the human is no longer at version 3. An
``Idempotency-Key`` names one request; its fingerprint hashes the method, the path
and the canonical body, so the same key with another request is told apart.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from litestar import Request
from pydantic import BaseModel

from hot.application import IdempotencyKey


def etag(version: int) -> str:
    return f'"{version}"'


def expected_version(value: str | None) -> int | None:
    """The version an ``If-Match`` value names (``*`` or absent: any). Its format is
    checked once, where the header is declared (``params.IfMatch``)."""
    if value is None or value == "*":
        return None
    return int(value.strip('"'))


def idempotency(
    key: str | None, request: Request[Any, Any, Any], body: BaseModel | None
) -> IdempotencyKey | None:
    """The ``Idempotency-Key`` with the request's fingerprint, or None without a key. Its
    format is checked once, where the header is declared (``params.IdempotencyKeyHeader``)."""
    if key is None:
        return None
    return IdempotencyKey(key, fingerprint(request.method, request.url.path, body))


def fingerprint(method: str, path: str, body: BaseModel | None) -> str:
    """A hash of what a request asks: equal for retries, different for other requests."""
    content = body.model_dump(mode="json") if body is not None else None
    canonical = json.dumps([method.upper(), path, content], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()
