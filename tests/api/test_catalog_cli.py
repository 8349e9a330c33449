"""``hot catalog`` still prints the catalog; ``hot catalog register FILE.json`` posts a type
and a version of its schema, here to a stand-in of the catalog routes served over real
sockets (an end-to-end test against HoT comes with the routes themselves)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import pytest
from click.testing import CliRunner, Result
from litestar import Litestar, Request, Response, post
from litestar.params import JSONBody, PathParameter

from hot.application import CATALOG
from hot.cli import main
from tests.api.conftest import Tokens
from tests.serving import free_port, served

TOKEN, READ_TOKEN = "hot_catalog", "hot_read"
NAME = "RECEIVED_STANDUP_UPDATE"
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"team": {"type": "string"}, "blockers": {"type": "string"}},
    "required": ["team"],
}


def problem(status: int, rule: str, detail: str, **extra: Any) -> Response[dict[str, Any]]:
    title = rule.replace("-", " ").capitalize()
    body = {"type": f"urn:hot:problem:{rule}", "title": title, "status": status, "detail": detail}
    return Response(body | extra, status_code=status, media_type="application/problem+json")


class StandInCatalog:
    """The catalog routes' contract, kept in memory: event types by name, each with its
    schemas in version order. A version that requires a property the one before it did
    not is incompatible (enough of BACKWARD for these tests)."""

    def __init__(self) -> None:
        self.types: dict[str, dict[str, Any]] = {}
        self.schemas: dict[str, list[dict[str, Any]]] = {}

    def app(self) -> Litestar:
        @post("/catalog/types", sync_to_thread=False)
        def create_type(data: JSONBody[dict[str, Any]], request: Request[Any, Any, Any]) -> Any:
            missing = [f for f in ("name", "description", "owner") if f not in data]
            if refused := self.refused_token(request):
                return refused
            if missing:
                errors = [{"field": f, "message": "Field required"} for f in missing]
                return problem(422, "invalid-body", f"{missing[0]}: Field required", errors=errors)
            if data["name"] in self.types:
                return problem(409, "event-type-exists", f"{data['name']} exists.")
            self.types[data["name"]], self.schemas[data["name"]] = data, []
            return Response(data, status_code=201)

        @post("/catalog/types/{name:str}/versions", sync_to_thread=False)
        def add_version(
            name: Annotated[str, PathParameter()],
            data: JSONBody[dict[str, Any]],
            request: Request[Any, Any, Any],
        ) -> Any:
            return self.refused_token(request) or self.add_version(
                name, data, request.query_params.get("dry_run") == "true"
            )

        return Litestar([create_type, add_version])

    def refused_token(self, request: Request[Any, Any, Any]) -> Response[Any] | None:
        given = request.headers.get("authorization", "")
        if given == f"Bearer {READ_TOKEN}":
            return problem(403, "forbidden", "This needs the catalog scope.")
        if given != f"Bearer {TOKEN}":
            return problem(401, "unauthorized", "Unknown token.")
        return None

    def add_version(self, name: str, data: dict[str, Any], dry_run: bool) -> Response[Any]:
        if name not in self.types:
            return problem(404, "event-type-not-found", f"No event type {name}.")
        schema = data.get("schema")
        if not isinstance(schema, dict):
            errors = [{"field": "schema", "message": "Input should be an object"}]
            return problem(422, "invalid-body", "schema: Input should be an object", errors=errors)
        errors = self.incompatibilities(name, schema)
        if dry_run:
            return Response({"compatible": not errors, "errors": errors}, status_code=200)
        if errors:
            return problem(409, "incompatible-schema", f"{len(errors)} change(s).", errors=errors)
        self.schemas[name].append(schema)
        return Response({"name": name, "version": len(self.schemas[name])}, status_code=201)

    def incompatibilities(self, name: str, schema: dict[str, Any]) -> list[dict[str, str]]:
        before = self.schemas[name][-1] if self.schemas[name] else {"required": []}
        added = set(schema.get("required", [])) - set(before.get("required", []))
        if not self.schemas[name]:
            return []
        return [{"path": f"/required/{f}", "reason": "a new required field"} for f in added]


@pytest.fixture
def stand_in() -> StandInCatalog:
    return StandInCatalog()


@pytest.fixture
def url(stand_in: StandInCatalog) -> Iterator[str]:
    with served(stand_in.app(), free_port()) as base_url:
        yield base_url


def definition(tmp_path: Path, schema: dict[str, Any], **change: Any) -> Path:
    body = {
        "name": NAME,
        "description": "A team member's standup update.",
        "owner": "standup-team",
        "compatibility": "BACKWARD",
        "schema": schema,
    }
    path = tmp_path / "standup.json"
    path.write_text(json.dumps(body | change))
    return path


def register(path: Path, url: str, *args: str, token: str = TOKEN) -> Result:
    command = ["catalog", "register", str(path), "--url", url, "--token", token, *args]
    return CliRunner().invoke(main, command)


def with_required(field: str) -> dict[str, Any]:
    properties = SCHEMA["properties"] | {field: {"type": "string"}}
    return SCHEMA | {"properties": properties, "required": ["team", field]}


def test_catalog_alone_still_prints_the_catalog() -> None:
    text = CliRunner().invoke(main, ["catalog"])
    as_json = CliRunner().invoke(main, ["catalog", "--json"])

    assert text.exit_code == as_json.exit_code == 0
    assert text.output.startswith("HUMAN_REGISTERED v1\n")
    assert json.loads(as_json.output) == {"events": [t.info().__dict__ for t in CATALOG]}


def test_a_new_type_and_its_first_version_are_registered(
    tmp_path: Path, url: str, stand_in: StandInCatalog
) -> None:
    result = register(definition(tmp_path, SCHEMA, upcast={"from": 0}), url)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"registered {NAME} version 1\n"
    assert stand_in.types[NAME]["owner"] == "standup-team"
    assert stand_in.schemas[NAME] == [SCHEMA]


def test_a_type_that_exists_gets_a_new_version(
    tmp_path: Path, url: str, stand_in: StandInCatalog
) -> None:
    register(definition(tmp_path, SCHEMA), url)
    loosened = SCHEMA | {"required": []}

    result = register(definition(tmp_path, loosened), url)

    assert result.exit_code == 0, result.output
    assert result.stdout == f"registered {NAME} version 2\n"
    assert result.stderr == f"{NAME} is in the catalog already\n"
    assert stand_in.schemas[NAME] == [SCHEMA, loosened]


def test_an_incompatible_schema_is_refused_with_each_reason(
    tmp_path: Path, url: str, stand_in: StandInCatalog
) -> None:
    register(definition(tmp_path, SCHEMA), url)

    result = register(definition(tmp_path, with_required("mood")), url)

    assert result.exit_code == 1
    assert result.stderr.splitlines()[1:] == [
        f"hot: the version of {NAME} was refused (409 Incompatible schema: 1 change(s).)",
        "  /required/mood: a new required field",
    ]
    assert stand_in.schemas[NAME] == [SCHEMA]


@pytest.mark.parametrize(
    ("schema", "status", "says"),
    [
        (SCHEMA | {"required": []}, 0, [f"{NAME}: compatible"]),
        (
            with_required("mood"),
            1,
            [f"{NAME}: not compatible", "  /required/mood: a new required field"],
        ),
    ],
)
def test_a_dry_run_says_whether_compatible_and_registers_nothing(
    tmp_path: Path,
    url: str,
    stand_in: StandInCatalog,
    schema: dict[str, Any],
    status: int,
    says: list[str],
) -> None:
    register(definition(tmp_path, SCHEMA), url)

    result = register(definition(tmp_path, schema), url, "--dry-run")

    assert result.exit_code == status
    assert result.stdout.splitlines() == says
    assert stand_in.schemas[NAME] == [SCHEMA]


def test_a_refused_body_is_said_with_each_error(tmp_path: Path, url: str) -> None:
    path = definition(tmp_path, SCHEMA)
    path.write_text(json.dumps({"name": NAME, "schema": SCHEMA}))

    result = register(path, url)

    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"hot: the event type {NAME} was refused (422 Invalid body: description: Field required)",
        "  description: Field required",
        "  owner: Field required",
    ]


@pytest.mark.parametrize(
    ("token", "says"),
    [
        (READ_TOKEN, "hot: the token lacks the catalog scope (403 Forbidden: "),
        ("hot_nonsense", "hot: the API refused the token (401 Unauthorized: "),
    ],
)
def test_a_refused_token_is_said(tmp_path: Path, url: str, token: str, says: str) -> None:
    result = register(definition(tmp_path, SCHEMA), url, token=token)

    assert result.exit_code == 1
    assert result.stderr.startswith(says), result.stderr


def test_a_file_that_is_not_a_definition_is_refused_before_posting(tmp_path: Path) -> None:
    path = tmp_path / "standup.json"
    path.write_text("{not json")
    unreachable = f"http://127.0.0.1:{free_port()}"

    not_json = register(path, unreachable)
    path.write_text('{"schema": {}}')
    nameless = register(path, unreachable)

    assert not_json.stderr.startswith(f"hot: {path} is not JSON: ")
    assert nameless.stderr.startswith(f"hot: {path} is not an event type")
    assert not_json.exit_code == nameless.exit_code == 1


def test_an_api_that_cannot_be_reached_is_said(tmp_path: Path) -> None:
    unreachable = f"http://127.0.0.1:{free_port()}"

    result = register(definition(tmp_path, SCHEMA), unreachable)

    assert result.exit_code == 1
    assert result.stderr.startswith(f"hot: cannot reach the API at {unreachable}: ")


def test_register_then_print_the_served_catalog_with_the_real_api(
    tmp_path: Path, api: Litestar, tokens: Tokens
) -> None:
    name = f"DESK_BOOKED_{uuid.uuid4().hex[:6].upper()}"
    schema = {"type": "object", "properties": {"desk": {"type": "string"}}, "required": ["desk"]}
    path = definition(tmp_path, schema, name=name, owner="facilities")

    with served(api, free_port()) as base_url:
        registered = register(path, base_url, token=tokens.admin)
        again = register(path, base_url, token=tokens.admin)
        printed = CliRunner().invoke(main, ["catalog", "--url", base_url])
        as_json = CliRunner().invoke(main, ["catalog", "--url", base_url, "--json"])

    assert registered.exit_code == 0, registered.output
    assert registered.stdout == f"registered {name} version 1\n"
    assert again.stdout == f"registered {name} version 2\n"  # the type existed: fine
    assert f"{name} v1  (facilities, BACKWARD)\n" in printed.output
    assert "    desk: string\n" in printed.output
    served_names = [e["name"] for e in json.loads(as_json.output)["events"]]
    assert served_names[: len(CATALOG.names)] == list(CATALOG.names)
    assert served_names.count(name) == 2
