"""``HttpLog``: the log read over HoT's HTTP API, for apps without database access.

It pages through ``GET /events?after=&limit=&name=`` with a bearer token (scope
``read``). Network errors, 429 and 5xx answers are worth retrying and become
``SourceUnavailableError``; 401 and 403 become ``AccessDeniedError``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx

from hot_follow.errors import AccessDeniedError, FollowerError, SourceUnavailableError
from hot_follow.events import (
    MAX_PAGE,  # what GET /events accepts
    RecordedEvent,
)
from hot_follow.representation import event_from_dict, masked_event


class HttpLog:
    """The log behind the HoT API at ``base_url`` (e.g. ``http://hot.internal:8000``)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        client: httpx.Client | None = None,
        timeout: float = 10.0,
    ) -> None:
        self._owns_client = client is None
        self.client = client or httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout)
        self.headers = {"Authorization": f"Bearer {token}"}

    def read(
        self,
        after: int,
        limit: int,
        names: Sequence[str] = (),
        upto: int | None = None,
        *,
        personal: bool = True,
    ) -> list[RecordedEvent]:
        params: dict[str, Any] = {"after": after, "limit": min(limit, MAX_PAGE)}
        if names:
            params["name"] = list(names)
        body = self._get("/events", params)
        events = [event_from_dict(e) for e in body["events"]]
        shown = events if personal else [masked_event(e) for e in events]  # whatever the scope
        return [e for e in shown if upto is None or e.position <= upto]

    def first_after(self, after: int, names: Sequence[str] = ()) -> int | None:
        events = self.read(after, 1, names)
        return events[0].position if events else None

    def head(self, names: Sequence[str] = ()) -> int | None:
        return None  # the API has no head query: catch-ups over HTTP read until a short page

    def complete_upto(self) -> None:
        return None  # ``GET /events`` reads the log itself

    def close(self) -> None:
        if self._owns_client:
            self.client.close()

    def _get(self, path: str, params: dict[str, Any]) -> dict[str, Any]:
        try:
            response = self.client.get(path, params=params, headers=self.headers)
        except httpx.TransportError as error:
            raise SourceUnavailableError(f"The HoT API is unreachable: {error}") from error
        status = response.status_code
        if status in (401, 403):
            raise AccessDeniedError(f"The HoT API refused the token ({status}): {response.text}")
        if status == 429 or status >= 500:
            raise SourceUnavailableError(f"The HoT API answered {status}: {response.text}")
        if status != 200:
            raise FollowerError(f"GET {path} answered {status}: {response.text}")
        body: dict[str, Any] = response.json()
        return body
