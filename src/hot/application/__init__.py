"""The application layer: use cases over the human domain, returning plain values."""

from hot.application.catalog import CATALOG, EventCatalog, EventType
from hot.application.envelopes import Envelope
from hot.application.humans import HumansApplication
from hot.application.idempotency import IdempotencyKey
from hot.application.views import (
    CommandResult,
    EventTypeInfo,
    HumanView,
    LogPage,
    MembershipView,
    RecordedEvent,
)

__all__ = [
    "CATALOG",
    "CommandResult",
    "Envelope",
    "EventCatalog",
    "EventType",
    "EventTypeInfo",
    "HumanView",
    "HumansApplication",
    "IdempotencyKey",
    "LogPage",
    "MembershipView",
    "RecordedEvent",
]
