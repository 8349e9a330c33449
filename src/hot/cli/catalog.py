"""``hot catalog``: print the event catalog; ``hot catalog register``: add to it."""

from __future__ import annotations

import json
from typing import Any

import click
import httpx

from hot.application import CATALOG
from hot.cli.catalog_register import register


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
@click.option(
    "--url",
    envvar="HOT_API_URL",
    default=None,
    help="Print the catalog of the HoT API at URL, teams' types included (or HOT_API_URL); "
    "without it, HoT's built-in events.",
)
@click.pass_context
def catalog(ctx: click.Context, as_json: bool, url: str | None) -> None:
    """Print every event name and version, with its description and payload schema.

    Alone, it prints the catalog; hot catalog register FILE.json adds to it.
    """
    if ctx.invoked_subcommand is None:
        entries = [t.info().__dict__ for t in CATALOG] if url is None else _served(url)
        _print(entries, as_json)


catalog.add_command(register)


def _served(url: str) -> list[dict[str, Any]]:
    """The catalog the API at ``url`` serves (``GET /catalog``: open to everyone)."""
    try:
        response = httpx.get(f"{url.rstrip('/')}/catalog", timeout=10)
    except httpx.HTTPError as error:
        raise click.ClickException(f"cannot reach the API at {url}: {error}") from None
    if response.status_code != 200:
        raise click.ClickException(f"the API at {url} answered {response.status_code}")
    events: list[dict[str, Any]] = response.json()["events"]
    return events


def _print(entries: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"events": entries}, indent=2))
        return
    for entry in entries:
        owner = entry.get("owner", "hot")
        tags = "" if owner == "hot" else f"  ({owner}, {entry['compatibility']})"
        deprecated = "  DEPRECATED" if entry.get("deprecated") else ""
        click.secho(f"{entry['name']} v{entry['version']}{tags}{deprecated}", bold=True)
        click.echo(f"  {entry['description']}")
        schema = entry["schema"]
        required = set(schema.get("required", ()))
        for field, spec in schema.get("properties", {}).items():
            kind = _describe(spec, schema.get("$defs", {}))
            mark = "" if field in required else " (optional)"
            click.echo(f"    {field}: {kind}{mark}")


def _describe(spec: dict[str, Any], defs: dict[str, Any]) -> str:
    """A short, human-readable type of a JSON Schema property."""
    if "$ref" in spec:
        spec = defs[spec["$ref"].rsplit("/", 1)[-1]]
    if "enum" in spec:
        return "one of " + ", ".join(spec["enum"])
    if "anyOf" in spec:
        kinds = [_describe(s, defs) for s in spec["anyOf"] if s.get("type") != "null"]
        return " or ".join(kinds) + " or null"
    return str(spec.get("format") or spec.get("type") or "any")
