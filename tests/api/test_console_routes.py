"""What the web console needs of the API: ``GET /auth/me``, the log as CloudEvents, and
the console's files served at ``/console`` (and shipped in the wheel)."""

from __future__ import annotations

import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from hot.infra.api_keys import ApiKeyStore
from hot_follow.representation import event_from_dict
from tests.api.conftest import Humans, Tokens, bearer, problem

ROOT = Path(__file__).resolve().parents[2]
CONSOLE_FILES = sorted(p.name for p in (ROOT / "src/hot/api/console").iterdir())


def test_auth_me_tells_the_tokens_name_and_scopes(
    client: TestClient[Litestar], tokens: Tokens, api_keys: ApiKeyStore
) -> None:
    catalog_only = api_keys.create("catalog-only-console", ["catalog", "personal"])
    me = client.get("/auth/me", headers=bearer(catalog_only))
    assert me.status_code == 200, me.text
    assert me.json() == {"name": "catalog-only-console", "scopes": ["catalog", "personal"]}
    read = client.get("/auth/me", headers=bearer(tokens.read)).json()
    assert read["scopes"] == ["read"]
    assert read["name"].startswith("read-")


def test_auth_me_without_a_valid_token_is_401(client: TestClient[Litestar]) -> None:
    problem(client.get("/auth/me", headers={"Authorization": ""}), 401, "unauthorized")
    problem(client.get("/auth/me", headers=bearer("hot_nope")), 401, "unauthorized")


def cloud_page(client: TestClient[Litestar], after: int, **headers: str) -> list[dict[str, Any]]:
    response = client.get(
        "/events", params={"after": after, "format": "cloudevents"}, headers=headers or None
    )
    assert response.status_code == 200, response.text
    assert list(response.json()) == ["cloudevents", "next"]
    return list(response.json()["cloudevents"])


def test_the_log_as_cloudevents_maps_back_to_each_event(
    client: TestClient[Litestar], given: Humans
) -> None:
    human_id = given.member()
    ours = given.events(human_id)
    cloud = [e for e in cloud_page(client, ours[0]["position"] - 1) if e["subject"] == human_id]
    assert len(cloud) == len(ours) == 2
    for event, ce in zip(ours, cloud, strict=True):
        assert ce["specversion"] == "1.0"
        assert ce["source"] == "http://testserver.local"
        assert ce["type"] == f"hot.{event['name']}"
        assert ce["datacontenttype"] == "application/json"
        assert ce["dataschema"] == f"http://testserver.local/catalog#{event['name']}.v1"
        # The mapping back of docs/events.md gives every field of HoT's representation.
        back = {
            "id": ce["id"],
            "name": ce["type"].removeprefix("hot."),
            "version": ce["hotversion"],
            "subject": ce["subject"],
            "sequence": ce["hotsequence"],
            "position": ce["hotposition"],
            "time": ce["time"],
            "payload": ce["data"],
        }
        assert back == event
        assert event_from_dict(back).time == datetime.fromisoformat(event["time"])


def test_cloudevents_mask_personal_fields_without_the_scope(
    client: TestClient[Litestar], given: Humans, tokens: Tokens
) -> None:
    human_id = given.register(name="Gaal Dornick")
    first = given.events(human_id)[0]["position"] - 1
    admin = [e for e in cloud_page(client, first) if e["subject"] == human_id]
    read = [
        e
        for e in cloud_page(client, first, Authorization=f"Bearer {tokens.read}")
        if e["subject"] == human_id
    ]
    assert admin[0]["data"]["name"] == "Gaal Dornick"
    assert read[0]["data"]["name"] == "(personal)"
    assert read[0]["data"]["email"] == "(personal)"


def test_an_unknown_format_is_refused(client: TestClient[Litestar]) -> None:
    problem(client.get("/events", params={"format": "xml"}), 400, "invalid-request", "format")


def test_the_console_is_served_whole_and_out_of_the_openapi_document(
    client: TestClient[Litestar],
) -> None:
    for path in ("/console", "/console/"):
        page = client.get(path, headers={"Authorization": ""})
        assert page.status_code == 200
        assert page.headers["content-type"].startswith("text/html")
        assert '<script type="module" src="/console/main.js">' in page.text
    for name in CONSOLE_FILES:
        served = client.get(f"/console/{name}", headers={"Authorization": ""})
        assert served.status_code == 200, name
        assert served.content == (ROOT / "src/hot/api/console" / name).read_bytes()
    assert client.get("/console/main.js").headers["content-type"].startswith("text/javascript")
    paths = client.get("/schema/openapi.json").json()["paths"]
    assert not [p for p in paths if p.startswith("/console")]
    assert "/auth/me" in paths


def test_a_file_the_console_does_not_have_is_a_404_problem(
    client: TestClient[Litestar],
) -> None:
    problem(client.get("/console/nope.js"), 404, "not-found")


def test_the_wheel_ships_the_console(tmp_path: Path) -> None:
    subprocess.run(
        ["uv", "build", "--wheel", "--out-dir", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("hot-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert sorted(n.removeprefix("hot/api/console/") for n in names if "/api/console/" in n) == (
        CONSOLE_FILES
    )
