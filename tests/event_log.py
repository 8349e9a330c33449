"""Helpers of the tests that read the log: a human's life to write, and the log as
``eventsourcing``'s own decoding reads it, the definition HoT's decoder is held to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast
from uuid import UUID, uuid4

from eventsourcing.persistence import Notification

from hot.application import CATALOG, Envelope, HumansApplication, RecordedEvent
from hot.application.catalog import is_public
from hot.application.decoding import Row
from hot.application.team_decoding import recorded_team_event
from hot.domain import Human, HumanKind
from hot_follow.representation import masked_event
from tests.standup import (
    STANDUP_V1,
    STANDUP_V1_PAYLOAD,
    STANDUP_V1_TO_V2,
    STANDUP_V2,
    STANDUP_V2_PAYLOAD,
)

TODAY = datetime.now(UTC).date()


def live_a_life(app: HumansApplication, days: int, tag: str) -> int:
    """One human's life in HoT: registered, joined, attending ``days`` days, renamed, gone.

    Returns the number of public events recorded (``days + 4``).
    """
    human = app.register(f"Human {tag}", f"{tag}@example.org", HumanKind.EMPLOYEE).id
    start = TODAY - timedelta(days=days + 10)
    app.join(human, start, "engineer")
    for day in range(days):
        app.attend(human, start + timedelta(days=day))
    app.change_details(human, name=f"Human {tag} (renamed)")
    app.leave(human, start + timedelta(days=days))
    return days + 4


def team_life(app: HumansApplication, human: UUID, tag: str) -> int:
    """A team's type at two versions (the first deprecated once used), and two events of
    it about ``human``, each with its personal field. Returns the public events (6)."""
    name = f"RECEIVED_STANDUP_UPDATE_{tag.upper()}"
    app.register_event_type(name, "A standup update.", "standup-team")
    app.add_event_type_version(name, STANDUP_V1)
    app.record(Envelope(uuid4(), name, 1, {**STANDUP_V1_PAYLOAD, "human_id": str(human)}))
    app.add_event_type_version(name, STANDUP_V2, STANDUP_V1_TO_V2)
    app.deprecate_event_type_version(name, 1)
    app.record(Envelope(uuid4(), name, 2, {**STANDUP_V2_PAYLOAD, "human_id": str(human)}))
    return 6


def stored_log(app: HumansApplication) -> list[Notification]:
    """Every public event of the log (built-in and teams') as the library's recorder
    reads it."""
    every = app.recorder.select_notifications(0, 100_000)
    return [n for n in every if is_public(n.topic)]


def rows_of(app: HumansApplication) -> list[Row]:
    """Every public event of the log, as rows of the events table."""
    return [
        Row(n.id, n.originator_id, n.originator_version, n.topic, n.state) for n in stored_log(app)
    ]


def library_log(app: HumansApplication, *, personal: bool = True) -> list[RecordedEvent]:
    """Every public event, decoded by ``app``'s mapper (``eventsourcing``'s decoding, with
    ``PersonalDataMapper``'s opening), shown as the catalog shows a domain event
    (``EventType.recorded``, as the write-through does), and masked by ``masked_event``
    unless ``personal``: what ``EventDecoder`` must give."""
    events = []
    for notification in stored_log(app):
        event = cast(Human.Event, app.mapper.to_domain_event(notification))
        if isinstance(event, Human.TeamEventRecorded):  # masked from its own field names
            events.append(recorded_team_event(event, notification.id, personal=personal))
            continue
        recorded = CATALOG[notification.topic].recorded(event, notification.id)
        events.append(recorded if personal else masked_event(recorded))
    return events
