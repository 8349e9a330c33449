"""The public event catalog: what events exist, at which version, with which payload.

``/catalog`` lists the catalog; ``/catalog/asyncapi.json`` describes the event streams
as an AsyncAPI document, built by ``hot.api.asyncapi`` (imported on first use, so the
API runs even where that module is not present).
"""

from __future__ import annotations

import importlib
from functools import cache
from typing import Any

from litestar import get
from litestar.exceptions import NotFoundException

from hot.api.auth import public
from hot.api.models import CatalogOut, EventTypeOut
from hot.api.params import Humans


@get("/catalog", tags=["catalog"], sync_to_thread=False, **public())
def catalog(humans: Humans) -> CatalogOut:
    """Every event name and version, its description and payload JSON Schema."""
    return CatalogOut(events=[EventTypeOut.of(info) for info in humans.catalog()])


@get("/catalog/asyncapi.json", tags=["catalog"], sync_to_thread=False, **public())
def asyncapi() -> dict[str, Any]:
    """The AsyncAPI document of HoT's event streams."""
    document = _asyncapi_document()
    if document is None:
        raise NotFoundException("The AsyncAPI document is not available in this build.")
    return document


@cache
def _asyncapi_document() -> dict[str, Any] | None:
    try:
        module = importlib.import_module("hot.api.asyncapi")
    except ModuleNotFoundError:
        return None
    return dict(module.asyncapi_document())
