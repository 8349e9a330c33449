"""``hot catalog register FILE.json``: a team's event type and a new version of its schema,
registered over HTTP.

    POST /catalog/types                  {"name", "description", "owner", "compatibility"}
                                         201 created; 409 event-type-exists: fine, go on
    POST /catalog/types/NAME/versions    {"schema", "upcast"?}: 201 {"name", "version"}
         ...?dry_run=true                200 {"compatible", "errors": [{"path", "reason"}]}

A dry run registers nothing: it neither creates the type nor adds a version.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import click
import httpx

from hot.cli.api_client import api_options, listed_errors, problem_of, refused_token

TYPE_FIELDS = ("name", "description", "owner", "compatibility")
VERSION_FIELDS = ("schema", "upcast")
TYPE_EXISTS = "urn:hot:problem:event-type-exists"
TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@click.command()
@click.argument(
    "file", metavar="FILE.json", type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@api_options("catalog")
@click.option("--dry-run", is_flag=True, help="Only check the schema's compatibility.")
def register(file: Path, url: str, token: str, dry_run: bool) -> int:
    """Register an event type (if new) and a new version of its schema, from FILE.json.

    FILE.json is {"name", "description", "owner", "compatibility", "schema", "upcast"?}.
    With --dry-run, say whether the schema is compatible with the type's versions (exit
    status 1 if not), registering nothing.
    """
    definition = _read(file)
    name = definition["name"]
    headers = {"Authorization": f"Bearer {token}"}
    versions = f"/catalog/types/{quote(name, safe='')}/versions"
    body = {k: definition[k] for k in VERSION_FIELDS if k in definition}
    with httpx.Client(base_url=url.rstrip("/"), headers=headers, timeout=TIMEOUT) as client:
        try:
            if dry_run:
                return _check(client.post(versions, json=body, params={"dry_run": "true"}), name)
            _create_type(client, {k: definition[k] for k in TYPE_FIELDS if k in definition})
            added = _answer(client.post(versions, json=body), f"version of {name}", 201)
        except httpx.TransportError as error:
            raise click.ClickException(f"cannot reach the API at {url}: {error}") from None
    click.echo(f"registered {added['name']} version {added['version']}")
    return 0


def _read(file: Path) -> dict[str, Any]:
    """The definition in ``file``: a JSON object with a ``name`` at least."""
    try:
        definition = json.loads(file.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        raise click.ClickException(f"{file} is not JSON: {error}") from None
    if not isinstance(definition, dict) or not isinstance(definition.get("name"), str):
        raise click.ClickException(f'{file} is not an event type: {{"name": ..., "schema": ...}}')
    return definition


def _create_type(client: httpx.Client, event_type: dict[str, Any]) -> None:
    """Create the type; one that exists already is fine (a new version is added to it)."""
    response = client.post("/catalog/types", json=event_type)
    if response.status_code == 409 and problem_of(response).type == TYPE_EXISTS:
        click.echo(f"{event_type['name']} is in the catalog already", err=True)
        return
    _answer(response, f"event type {event_type['name']}", 201)


def _check(response: httpx.Response, name: str) -> int:
    """Print a dry run's verdict and each incompatibility; 1 if not compatible."""
    verdict = _answer(response, f"check of {name}", 200)
    compatible = verdict.get("compatible") is True
    click.echo(f"{name}: {'compatible' if compatible else 'not compatible'}")
    for line in listed_errors(verdict):
        click.echo(f"  {line}")
    return 0 if compatible else 1


def _answer(response: httpx.Response, what: str, expected: int) -> dict[str, Any]:
    """The body of the ``expected`` answer; any other is said, with each error listed."""
    if response.status_code == expected:
        body: dict[str, Any] = response.json()
        return body
    if response.status_code in (401, 403):
        raise refused_token(response, "catalog")
    problem = problem_of(response)
    listed = "".join(f"\n  {line}" for line in problem.errors)
    raise click.ClickException(f"the {what} was refused ({problem.status} {problem}){listed}")
