"""``hot_read.humans``: each human's current state, as the domain applies their events.

A row is not folded by rules of its own: each public event, as masked readers see it,
is handed to its domain event class's ``apply`` on a ``Human`` holding the row's state,
so a human's kind, memberships and status here are the aggregate's. An event whose
class applies nothing to a human (or a name the catalog does not know as a human's
event) moves only the human's version, times and position. Personal fields reach
``apply`` masked and are never written.

The days attended are counted, with the last of them, not listed: a list rewritten
with each attendance grows with every year of a human's life; the days are the
``HUMAN_ATTENDED`` events of ``hot_read.events`` (``docs/sql.md``). So a row's ``Human``
holds only the days applied since the row was last written (``HumanRow.settle``); its
``days_before`` counts the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

from hot.application import CATALOG, RecordedEvent
from hot.application.catalog import is_about_a_human
from hot.domain import Human, HumanKind
from hot.domain.values import Membership

COLUMNS = (
    "id",
    "kind",
    "status",
    "memberships",
    "attended_count",
    "last_attended_on",
    "forgotten",
    "version",
    "registered_at",
    "modified_at",
    "position",
)


@dataclass
class HumanRow:
    """A row of ``hot_read.humans``: the human's state, and where it was last changed."""

    id: UUID
    human: Human  # name and email masked, only the days applied since it was read
    days_before: int  # days attended before those in ``human``
    last_before: date | None  # the last of them
    version: int
    registered_at: datetime
    modified_at: datetime
    position: int

    @classmethod
    def of(cls, columns: Sequence[Any]) -> HumanRow:
        """The row as selected with ``COLUMNS``."""
        human_id, kind, _, memberships, days, last, forgotten, version, since, at, position = (
            columns
        )
        human = _blank_human()
        human.kind = HumanKind(kind)
        human.memberships = [
            Membership(
                date.fromisoformat(m["joined_on"]),
                m["role"],
                None if m["left_on"] is None else date.fromisoformat(m["left_on"]),
            )
            for m in memberships
        ]
        human.forgotten = forgotten
        return cls(human_id, human, days, last, version, since, at, position)

    @classmethod
    def new(cls, event: RecordedEvent) -> HumanRow:
        """The row of a human not seen before ``event``."""
        return cls(event.subject, _blank_human(), 0, None, 0, event.time, event.time, 0)

    def row(self) -> dict[str, Any]:
        """The row's values by ``COLUMNS``, as msgspec encodes them to JSON."""
        human = self.human
        memberships = [
            {"joined_on": m.joined_on, "left_on": m.left_on, "role": m.role}
            for m in human.memberships
        ]
        last = max(human.attended_days, default=None)
        if self.last_before is not None and (last is None or self.last_before > last):
            last = self.last_before
        return {
            "id": self.id,
            "kind": str(human.kind),
            "status": human.status,
            "memberships": memberships,
            "attended_count": self.days_before + len(human.attended_days),
            "last_attended_on": last,
            "forgotten": human.forgotten,
            "version": self.version,
            "registered_at": self.registered_at,
            "modified_at": self.modified_at,
            "position": self.position,
        }

    def settle(self) -> None:
        """Count the days applied so far into ``days_before`` (once its values are written)."""
        days = self.human.attended_days
        if days:
            self.days_before += len(days)
            last = max(days)
            self.last_before = last if self.last_before is None else max(last, self.last_before)
            days.clear()

    def apply(self, event: RecordedEvent) -> None:
        """Bring the row up to ``event`` (the next event of this human)."""
        applier = _applier(event.name)
        if applier is not None:
            applier(event.payload, self.human)
        self.version, self.modified_at, self.position = event.sequence, event.time, event.position


def fold(rows: dict[UUID, HumanRow], events: Iterable[RecordedEvent]) -> set[UUID]:
    """Apply ``events`` (in log order) to their humans' ``rows``, adding the rows of humans
    not there yet; the ids of the humans changed."""
    changed: set[UUID] = set()
    for event in events:
        if not is_about_a_human(event.name):  # the catalog's own: about a type
            continue
        row = rows.get(event.subject)
        if row is None:
            row = rows[event.subject] = HumanRow.new(event)
        row.apply(event)
        changed.add(event.subject)
    return changed


Applier = Callable[[dict[str, Any], Human], None]
_appliers: dict[str, Applier | None] = {}


def _applier(name: str) -> Applier | None:
    """How an event of ``name`` changes a human: its class's ``apply``, given the payload
    typed by the catalog's model of it; None when it changes no state of a human's."""
    if name not in _appliers:
        event_type = CATALOG.get(name)
        event_class = getattr(event_type, "event_class", None)
        apply = getattr(event_class, "apply", None)
        if event_type is None or apply is None or not issubclass(event_class, Human.Event):  # type: ignore[arg-type]
            _appliers[name] = None
        else:
            model = event_type.payload_model

            def applier(payload: dict[str, Any], human: Human) -> None:
                apply(model.model_validate(payload), human)  # the payload stands in for the event

            _appliers[name] = applier
    return _appliers[name]


def _blank_human() -> Human:
    """A ``Human`` with only its state, none of an aggregate's: what ``apply`` changes."""
    human: Human = object.__new__(Human)
    Human.__init__(human)
    return human
