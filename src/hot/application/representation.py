"""What HoT's server adds to the read contract's representation of an event.

An event's representation, and how its personal fields are masked, is the read
contract's: ``hot_follow.representation``. Here: a human's state as a reader without
the ``personal`` scope sees it, and the same event as a CloudEvent 1.0 (structured
JSON), by the mapping of ``docs/events.md``, with its schema's URL in this deployment.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from hot.application.catalog import CATALOG
from hot.application.views import HumanView
from hot_follow.events import RecordedEvent
from hot_follow.representation import MASKED, rfc3339


def masked_human(human: HumanView) -> HumanView:
    """The human's state as a reader without the ``personal`` scope sees it."""
    external_ids = dict.fromkeys(human.external_ids, MASKED)  # the schemes are not personal
    return dataclasses.replace(human, name=MASKED, email=MASKED, external_ids=external_ids)


CLOUDEVENTS_TYPE_PREFIX = "hot."
"""The namespace of a CloudEvent's ``type`` (``hot.HUMAN_JOINED``)."""


def schema_path(name: str, version: int) -> str:
    """Where the schema of ``name`` at ``version`` is served (a CloudEvent's
    ``dataschema``): a built-in event's in the catalog, a team's version by its route."""
    if name in CATALOG:
        return f"/catalog#{name}.v{version}"
    return f"/catalog/types/{name}/versions/{version}"


def event_to_cloudevent(event: RecordedEvent, base_url: str) -> dict[str, Any]:
    """The event as a CloudEvent 1.0 in the structured JSON format: ``source`` is the
    deployment's ``base_url``, ``dataschema`` its schema's URL there; HoT's ``version``,
    ``sequence`` and ``position`` are the extensions ``hotversion``, ``hotsequence``,
    ``hotposition``."""
    base = base_url.rstrip("/")
    return {
        "specversion": "1.0",
        "id": str(event.id),
        "source": base,
        "type": CLOUDEVENTS_TYPE_PREFIX + event.name,
        "subject": str(event.subject),
        "time": rfc3339(event.time),
        "datacontenttype": "application/json",
        "dataschema": base + schema_path(event.name, event.version),
        "hotversion": event.version,
        "hotsequence": event.sequence,
        "hotposition": event.position,
        "data": event.payload,
    }
