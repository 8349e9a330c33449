"""``hot keys``: create, list and revoke the API's bearer tokens.

Tokens are stored only as hashes: ``create`` prints the token once and never again.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import click

from hot.infra.api_keys import ApiKeyStore, KeyExistsError, KeyNotFoundError, Scope
from hot.infra.bootstrap import bootstrap
from hot.infra.settings import Settings

MAX_KEY_NAME = 100  # characters of a key's name, on one line


@contextmanager
def key_store() -> Iterator[ApiKeyStore]:
    """The API key store of the configured (or embedded) database, closed after use."""
    hot = bootstrap(Settings.from_env(), with_redis=False)
    try:
        with ApiKeyStore(hot.database_url) as api_keys:
            yield api_keys
    finally:
        hot.close()


@click.group()
def keys() -> None:
    """Manage API keys (bearer tokens with scopes read, write, personal, catalog, admin)."""


def _key_name(ctx: click.Context, param: click.Parameter, name: str) -> str:
    if not name.strip():
        raise click.BadParameter("a key's name must not be blank")
    if not name.isprintable() or len(name) > MAX_KEY_NAME:
        raise click.BadParameter(
            f"a key's name is up to {MAX_KEY_NAME} printable characters, on one line"
        )
    return name


@keys.command()
@click.argument("name", callback=_key_name)
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice([s.value for s in Scope]),
    help="A scope to grant (repeat for several); admin implies all.",
)
def create(name: str, scopes: tuple[str, ...]) -> None:
    """Create a key called NAME and print its token (shown only this once)."""
    with key_store() as api_keys:
        try:
            token = api_keys.create(name, scopes)
        except KeyExistsError as error:
            raise click.ClickException(str(error)) from None
    click.echo(token)


@keys.command(name="list")
def list_keys() -> None:
    """List the keys: name, scopes, creation time (never the tokens)."""
    with key_store() as api_keys:
        for key in api_keys.list_keys():
            scopes = ",".join(sorted(key.scopes))
            click.echo(f"{key.name}\t{scopes}\t{key.created_at.isoformat()}")


@keys.command()
@click.argument("name")
def revoke(name: str) -> None:
    """Revoke the key called NAME (running servers stop accepting it within seconds)."""
    with key_store() as api_keys:
        try:
            api_keys.revoke(name)
        except KeyNotFoundError as error:
            raise click.ClickException(str(error)) from None
    click.echo(f"Revoked {name}.")
