"""Text a follower could not store, or nobody could see, is refused over HTTP with a 422
naming the field, and nothing is recorded (a NUL character cannot be held in a
PostgreSQL text column: a projection would fail on that event forever)."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import HumansApplication
from tests.api.conftest import Humans, new_email

Client = TestClient[Litestar]


def _refused(response: Any, field: str) -> None:
    assert response.status_code == 422, response.text
    body = response.json()
    assert (body["rule"], body["field"]) == ("invalid-details", field)


@pytest.mark.parametrize(
    ("name", "email"),
    [("Hari\x00", None), ("\u200b", None), (None, "hari\x00@trantor.example")],
)
def test_a_registration_with_such_text_records_nothing(
    client: Client, humans: HumansApplication, name: str | None, email: str | None
) -> None:
    body = {"name": name or "Hari Seldon", "email": email or new_email(), "kind": "employee"}
    head = humans.head()

    _refused(client.post("/humans", json=body), "name" if name else "email")
    assert humans.head() == head


def test_a_role_or_reason_with_a_nul_character_records_nothing(
    client: Client, humans: HumansApplication, given: Humans
) -> None:
    human_id, newcomer = given.member(), given.register()
    head = humans.head()

    joined = client.post(f"/humans/{newcomer}/join", json={"on": "2020-01-01", "role": "x\x00"})
    left = client.post(f"/humans/{human_id}/leave", json={"on": "2020-02-01", "reason": "a\x00b"})
    renamed = client.patch(f"/humans/{human_id}", json={"name": "\x00"})

    _refused(joined, "role")
    _refused(left, "reason")
    _refused(renamed, "name")
    assert humans.head() == head
