"""The AsyncAPI 3.0 document of HoT's event streams, generated from the event catalog.

One channel is the stream of every event (``<prefix>:events``), one more per event
name (``<prefix>:events:<NAME>``); one message per event name and version. A message
is a stream entry: string fields ``id``, ``name``, ``version``, ``subject``,
``sequence``, ``position``, ``time``, and ``payload``, a JSON string whose schema is
the catalog's. Nothing is written by hand twice: add an event to the domain and it
appears here. Personal payload fields keep the catalog's ``"x-personal": true``, and
say how they read in the streams (masked unless ``HOT_STREAM_PERSONAL=on``).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from hot.application import CATALOG
from hot.application.views import EventTypeInfo
from hot.domain import FORGOTTEN
from hot.infra.relay.publisher import FORGETTING
from hot_follow.representation import MASKED
from hot_follow.streams import FIELDS

DESCRIPTION = """\
Every public event HoT records, in Redis streams, in the order of the global log.

- **Entry ids are log positions**: an event at position 4711 has the id `4711-0`, in
  every stream it is in. Read with `XREAD BLOCK ... STREAMS {all} <last id>` and resume
  after a restart from the last id you handled; the same number is the `after` of the
  HTTP log, which holds the whole history.
- **Exactly once, in order**: each event is in `{all}` once, and once in the stream of
  its name; a stream never skips an event it should hold.
- **Retention**: the streams keep the recent tail of the log (`HOT_STREAM_RETENTION`);
  older events are read from the HTTP log.
- **Personal data**: the payload fields marked `x-personal` ({personal_fields}) read
  `{masked}` unless HoT runs with `HOT_STREAM_PERSONAL=on` (here: {mode}); read them
  from the HTTP API with the `personal` scope. With it on, a forgotten human's personal
  fields read `{forgotten}`; either way, forgetting deletes the human's earlier entries
  from every stream: only their `{forgetting}` entry remains.
- The key prefix is configurable (`HOT_REDIS_PREFIX`); a prefix in braces, like
  `{{hot}}`, keeps every key in one Redis Cluster slot.
"""

_UUID = {"type": "string", "format": "uuid"}
_COUNT = {"type": "string", "pattern": "^[1-9][0-9]*$"}


def asyncapi_document(
    infos: Sequence[EventTypeInfo] | None = None,
    *,
    prefix: str = "hot",
    version: str = "1.0.0",
    redis_host: str | None = None,
    personal: bool = False,
) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for the streams under ``prefix``.

    ``redis_host`` (``host:port``), when given, is listed as the document's server;
    ``personal`` says the streams hold personal fields in clear (``HOT_STREAM_PERSONAL``).
    """
    infos = [t.info() for t in CATALOG] if infos is None else list(infos)
    schemas: dict[str, Any] = {}
    messages = {_key(info): _message(info, schemas, personal) for info in infos}
    channels = {"events": _channel(f"{prefix}:events", "Every event.", list(messages))}
    for name in dict.fromkeys(info.name for info in infos):
        message_ids = [_key(info) for info in infos if info.name == name]
        channels[name] = _channel(f"{prefix}:events:{name}", f"The {name} events.", message_ids)
    document: dict[str, Any] = {
        "asyncapi": "3.0.0",
        "info": {
            "title": "HoT event streams",
            "version": version,
            "description": DESCRIPTION.format(
                all=f"{prefix}:events",
                personal_fields=_personal_fields(infos),
                masked=MASKED,
                mode="in clear" if personal else "masked",
                forgotten=FORGOTTEN,
                forgetting=FORGETTING,
            ),
        },
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": {f"receive_{channel}": _receive(channel, channels) for channel in channels},
        "components": {"messages": messages, "schemas": schemas},
    }
    if redis_host is not None:
        document["servers"] = {"redis": {"host": redis_host, "protocol": "redis"}}
    return document


AsyncApiDocument = Callable[[Sequence[EventTypeInfo]], dict[str, Any]]
"""The document for the app's streams, given the catalog's entries as they are now."""


def _key(info: EventTypeInfo) -> str:
    return f"{info.name}.v{info.version}"


def _channel(address: str, description: str, message_keys: list[str]) -> dict[str, Any]:
    return {
        "address": address,
        "description": description + " Entry ids are log positions (`<position>-0`).",
        "messages": {k: {"$ref": f"#/components/messages/{k}"} for k in message_keys},
    }


def _receive(channel: str, channels: dict[str, Any]) -> dict[str, Any]:
    return {
        "action": "receive",
        "summary": f"Read {channels[channel]['address']} (XREAD, or XREADGROUP).",
        "channel": {"$ref": f"#/channels/{channel}"},
        "messages": [
            {"$ref": f"#/channels/{channel}/messages/{k}"} for k in channels[channel]["messages"]
        ],
    }


def _personal_fields(infos: Sequence[EventTypeInfo]) -> str:
    marked = {
        info.name: [
            f for f, spec in info.schema.get("properties", {}).items() if spec.get("x-personal")
        ]
        for info in infos
    }
    return "; ".join(f"{name}: {', '.join(fields)}" for name, fields in marked.items() if fields)


def _message(info: EventTypeInfo, schemas: dict[str, Any], personal: bool) -> dict[str, Any]:
    payload_key = f"{_key(info)}.payload"
    schemas[payload_key] = _described_personal(_hoisted(info.schema, schemas, _key(info)), personal)
    return {
        "name": info.name,
        "title": f"{info.name} v{info.version}",
        "summary": info.description,
        "contentType": "application/json",
        "payload": {
            "type": "object",
            "description": "A stream entry: the event representation, one field each.",
            "required": list(FIELDS),
            "properties": {
                "id": {**_UUID, "description": "The event's id."},
                "name": {"type": "string", "const": info.name},
                "version": {"type": "string", "const": str(info.version)},
                "subject": {
                    **_UUID,
                    "description": "The id of the human it is about (of the type, for the "
                    "catalog's own EVENT_TYPE_* events).",
                },
                "sequence": {**_COUNT, "description": "The human's version after it."},
                "position": {**_COUNT, "description": "Its place in the log; the entry id."},
                "time": {"type": "string", "format": "date-time"},
                "payload": {
                    "type": "string",
                    "description": f"JSON, as in `#/components/schemas/{payload_key}`.",
                    "contentMediaType": "application/json",
                    "contentSchema": {"$ref": f"#/components/schemas/{payload_key}"},
                },
            },
        },
    }


def _described_personal(schema: dict[str, Any], personal: bool) -> dict[str, Any]:
    """The payload schema with each ``x-personal`` field saying how the streams hold it."""
    how = (
        f"Personal data, in clear in these streams (HOT_STREAM_PERSONAL=on); `{FORGOTTEN}` "
        "once the human is forgotten."
        if personal
        else f"Personal data: reads `{MASKED}` in these streams (HOT_STREAM_PERSONAL=off); "
        f"with it on, the value, or `{FORGOTTEN}` once the human is forgotten."
    )
    for field in schema.get("properties", {}).values():
        if field.get("x-personal"):
            field["description"] = how
    return schema


def _hoisted(schema: dict[str, Any], schemas: dict[str, Any], owner: str) -> dict[str, Any]:
    """The schema with its ``$defs`` moved into ``schemas`` (named apart if they clash)."""
    schema = copy.deepcopy(schema)
    definitions: dict[str, Any] = schema.pop("$defs", {})
    names = {
        name: name if schemas.get(name, definition) == definition else f"{owner}.{name}"
        for name, definition in definitions.items()
    }
    for name, definition in definitions.items():
        schemas[names[name]] = _with_refs(definition, names)
    result: dict[str, Any] = _with_refs(schema, names)
    return result


def _with_refs(node: Any, names: dict[str, str]) -> Any:
    """``node`` with every ``#/$defs/X`` reference pointing into the document's schemas."""
    if isinstance(node, dict):
        return {
            key: f"#/components/schemas/{names[value.rsplit('/', 1)[-1]]}"
            if key == "$ref" and isinstance(value, str) and value.startswith("#/$defs/")
            else _with_refs(value, names)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_with_refs(item, names) for item in node]
    return node
