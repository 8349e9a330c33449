"""``hot catalog``: print the event catalog; ``hot catalog register``: add to it."""

from __future__ import annotations

import json
from typing import Any

import click

from hot.application import CATALOG
from hot.cli.catalog_register import register


@click.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="Print the catalog as JSON.")
@click.pass_context
def catalog(ctx: click.Context, as_json: bool) -> None:
    """Print every event name and version, with its description and payload schema.

    Alone, it prints the catalog; hot catalog register FILE.json adds to it.
    """
    if ctx.invoked_subcommand is None:
        _print(as_json)


catalog.add_command(register)


def _print(as_json: bool) -> None:
    entries = [t.info() for t in CATALOG]
    if as_json:
        payload = {"events": [e.__dict__ for e in entries]}
        click.echo(json.dumps(payload, indent=2))
        return
    for entry in entries:
        click.secho(f"{entry.name} v{entry.version}", bold=True)
        click.echo(f"  {entry.description}")
        required = set(entry.schema.get("required", ()))
        for field, spec in entry.schema.get("properties", {}).items():
            kind = _describe(spec, entry.schema.get("$defs", {}))
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
