"""``hot tail``: the live feed in a terminal, one line per event, from any position.

    hot tail                               new events from now on
    hot tail --after 0 --name HUMAN_JOINED every join, then new ones
    hot tail --url http://hot:8000 --token hot_...   over HTTP (the live feed)

A line is: position, time (UTC), name, subject, then the payload as ``key=value``.
"""

from __future__ import annotations

import json
import signal
from collections.abc import Iterable
from types import FrameType
from typing import Any

import click

from hot.application import RecordedEvent
from hot.infra.configured_feed import configured_feed
from hot.infra.settings import Settings
from hot_follow.errors import UnknownEventNameError
from hot_follow.names import unknown_names
from hot_follow.representation import event_to_dict
from hot_follow.sse import LiveFeedClient

COLOURS = {
    "HUMAN_REGISTERED": "green",
    "HUMAN_JOINED": "cyan",
    "HUMAN_LEFT": "magenta",
    "HUMAN_ATTENDED": "blue",
    "HUMAN_DETAILS_CHANGED": "yellow",
}


@click.command()
@click.option("--after", type=click.IntRange(min=0), help="Start after this position (0: all).")
@click.option("--name", "names", multiple=True, help="Only events of this name (repeatable).")
@click.option("--count", type=click.IntRange(min=1), help="Exit after this many events.")
@click.option("--json", "as_json", is_flag=True, help="Print each event as a JSON line.")
@click.option("--url", help="Read the live feed of the HoT API at this URL instead.")
@click.option("--token", envvar="HOT_TOKEN", help="The API token (scope read) for --url.")
@click.option("--database-url", help="HoT's database (default: HOT_DATABASE_URL, or embedded).")
@click.option(
    "--personal", is_flag=True, help="Show personal fields (reading the database directly)."
)
def tail(
    after: int | None,
    names: tuple[str, ...],
    count: int | None,
    as_json: bool,
    url: str | None,
    token: str | None,
    database_url: str | None,
    personal: bool,
) -> None:
    """Print events as they are recorded (after --after, or from now), until Ctrl-C.

    Personal fields read as "(personal)" unless --personal (directly) or the token has
    the personal scope (over HTTP).
    """
    unknown = unknown_names(names)
    if unknown:
        raise click.BadParameter(str(UnknownEventNameError(unknown)), param_hint="--name")
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if url is not None:
            if not token:
                raise click.UsageError("--url needs --token (or HOT_TOKEN).")
            client = LiveFeedClient(url, token, after=after, names=names)
            try:
                _print(client, count, as_json)
            finally:
                client.close()
            return
        with configured_feed(Settings.from_env(), database_url) as (feed, _):
            start = feed.head(names) if after is None else after
            with feed.follow(start or 0, names, personal=personal) as follower:
                _print(follower, count, as_json)
    except KeyboardInterrupt:
        pass


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def _print(events: Iterable[RecordedEvent], count: int | None, as_json: bool) -> None:
    for printed, event in enumerate(events, start=1):
        if as_json:
            click.echo(json.dumps(event_to_dict(event), ensure_ascii=False))
        else:
            click.echo(line(event, colour=True))
        if count is not None and printed >= count:
            return


def line(event: RecordedEvent, *, colour: bool = False) -> str:
    """One event as a line a person reads."""
    when = event.time.strftime("%Y-%m-%d %H:%M:%S")
    name = f"{event.name:<21}"
    if colour:
        name = click.style(name, fg=COLOURS.get(event.name), bold=True)
    payload = " ".join(f"{k}={_value(v)}" for k, v in event.payload.items() if v is not None)
    return f"{event.position:>9}  {when}  {name}  {event.subject}  {payload}"


def _value(value: Any) -> str:
    text = str(value)
    if isinstance(value, str) and text and all(c.isalnum() or c in "-_.@:+/" for c in text):
        return text
    return json.dumps(value, ensure_ascii=False)
