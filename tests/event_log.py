"""Helpers of the tests that read the log: a human's life to write, and the log as
``eventsourcing``'s own decoding reads it, the definition HoT's decoder is held to."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import cast

from eventsourcing.persistence import Notification

from hot.application import CATALOG, HumansApplication, RecordedEvent
from hot.application.decoding import Row
from hot.application.representation import masked_event
from hot.domain import Human, HumanKind

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


def stored_log(app: HumansApplication) -> list[Notification]:
    """Every public event of the log as the library's recorder reads it."""
    return list(app.recorder.select_notifications(0, 100_000, topics=CATALOG.names))


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
        recorded = CATALOG[notification.topic].recorded(event, notification.id)
        events.append(recorded if personal else masked_event(recorded))
    return events
