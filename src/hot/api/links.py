"""OpenAPI links: the human an answer names is the human of the next request.

A command answers ``{"id", "version", "position"}`` and ``GET /humans/{id}`` the human,
``id`` first: each success links to every operation about a human, its ``human_id``
taken from ``$response.body#/id``. A client, or schemathesis in stateful mode, follows
them from a registration to a join, an attendance, a reading, a forgetting of that
human. Litestar builds the document from the route handlers and has no place for
links, so they are added to the finished document, in ``LinkedOpenAPI.to_schema``:
the one step the served ``/schema/openapi.json`` and every other reader share.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

HUMAN = "$response.body#/id"

# The operations about one human, by the name of their link: (method, path, what).
ABOUT_A_HUMAN = {
    "join": ("post", "/humans/{human_id}/join", "Start a membership of"),
    "leave": ("post", "/humans/{human_id}/leave", "End the membership of"),
    "attend": ("post", "/humans/{human_id}/attend", "Record a day attended by"),
    "change_details": ("patch", "/humans/{human_id}", "Change the details of"),
    "forget": ("post", "/humans/{human_id}/forget", "Forget"),
    "get_human": ("get", "/humans/{human_id}", "Read the state of"),
    "history": ("get", "/humans/{human_id}/events", "Read the history of"),
}

# The answers whose body's ``id`` is a human's id, as (method, path, status).
NAMING_A_HUMAN = [
    ("post", "/humans", "201"),
    ("post", "/events", "201"),  # an envelope's answer names its human
    ("post", "/events", "200"),  # and so does the answer to one already recorded
    ("post", "/humans/{human_id}/join", "200"),
    ("post", "/humans/{human_id}/leave", "200"),
    ("post", "/humans/{human_id}/attend", "200"),
    ("patch", "/humans/{human_id}", "200"),
    ("put", "/humans/{human_id}/external-ids/{scheme}", "200"),
    ("post", "/humans/{human_id}/forget", "200"),
    ("get", "/humans/{human_id}", "200"),
]


def with_links(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of the OpenAPI ``document`` in which every answer naming a human links to
    the operations about that human (by ``operationId``). A missing operation or answer
    is a ``KeyError``: a link to nothing must not be published."""
    linked = copy.deepcopy(document)
    paths = linked["paths"]
    links = {
        name: {
            "operationId": paths[path][method]["operationId"],
            "parameters": {"human_id": HUMAN},
            "description": f"{what} the human this answer names.",
        }
        for name, (method, path, what) in ABOUT_A_HUMAN.items()
    }
    for method, path, status in NAMING_A_HUMAN:
        paths[path][method]["responses"][status]["links"] = copy.deepcopy(links)
    return linked


class LinkedOpenAPI(OpenAPI):
    """Litestar's OpenAPI document, written out with its links."""

    def to_schema(self) -> dict[str, Any]:
        return with_links(super().to_schema())


class LinkedOpenAPIConfig(OpenAPIConfig):
    """``OpenAPIConfig`` whose document (``app.openapi_schema``) is a ``LinkedOpenAPI``."""

    def to_openapi_schema(self) -> OpenAPI:
        document = super().to_openapi_schema()
        fields = {f.name: getattr(document, f.name) for f in dataclasses.fields(document)}
        return LinkedOpenAPI(**fields)
