"""Teams' events at their type's latest version, for a follower: as ``as_version=latest``.

By default every reader sees an event exactly as it was posted. A follower that wants
a team's older events read as the latest version learns each type's versions from the
catalog's own events, which are in the log before any event of the version they add:
follow ``CATALOG_CHANGES`` too, and hand every event to ``LatestVersions``::

    latest = LatestVersions()
    with feed.follow(0, ["RECEIVED_STANDUP_UPDATE", *CATALOG_CHANGES]) as events:
        for event in events:
            event = latest.upcast(latest.learn(event))
            if event.name not in CATALOG_CHANGES: ...

Each version's declarative upcast (rename, drop, defaults) is applied in turn, as
``GET /events?as_version=latest`` applies it.
"""

from __future__ import annotations

from hot_follow.events import RecordedEvent
from hot_follow.upcasts import Upcast, at_latest

REGISTERED, VERSION_ADDED = "EVENT_TYPE_REGISTERED", "EVENT_TYPE_VERSION_ADDED"
CATALOG_CHANGES = (REGISTERED, VERSION_ADDED)
"""The catalog's events a ``LatestVersions`` learns from: a type's name, its versions."""


class LatestVersions:
    """Each team type's upcasts, version after version, as the catalog's events add them."""

    def __init__(self) -> None:
        self._types: dict[object, str] = {}  # a type's id (the events' subject) -> its name
        self._upcasts: dict[str, list[Upcast | None]] = {}  # by name: version 1's first

    def learn(self, event: RecordedEvent) -> RecordedEvent:
        """Take in what a catalog event says (a type registered, a version added); the
        event itself, unchanged, whatever it is."""
        if event.name == REGISTERED:
            self._types[event.subject] = str(event.payload["name"])
        elif event.name == VERSION_ADDED and event.subject in self._types:
            upcast = event.payload.get("upcast")
            versions = self._upcasts.setdefault(self._types[event.subject], [])
            versions.append(None if upcast is None else Upcast.from_json(upcast))
        return event

    def upcast(self, event: RecordedEvent) -> RecordedEvent:
        """``event`` at its type's latest version known, if it is a team's older event."""
        return at_latest(event, self._upcasts.get(event.name, ()))
