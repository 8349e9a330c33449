"""Idempotency records: a key names one request; a retry gets the first answer.

A record is an aggregate whose id derives from the key, saved in the same
transaction as the command's events: if the command committed, so did the record,
and two racing requests with one key cannot both commit.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from uuid import UUID, uuid5

from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate, Snapshot

from hot.domain import IdempotencyKeyReusedError

_KEY_NAMESPACE = UUID("0b9e6c57-3f7e-4f0d-8a4e-2d6c1a9f5e10")


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key for one request, and a fingerprint of that request's content."""

    key: str
    fingerprint: str

    @functools.cached_property  # uuid5 hashes the key: asked at each commit and conflict
    def record_id(self) -> UUID:
        return uuid5(_KEY_NAMESPACE, self.key)


class IdempotencyRecord(BaseAggregate[UUID]):
    """Which request a key named, and which human version that request produced."""

    TOPIC = "hot:IdempotencyRecord"
    Snapshot = Snapshot

    def __init__(self) -> None:
        self.fingerprint = ""
        self.human_id: UUID | None = None
        self.human_version = 0

    class Event(AggregateEvent):
        pass

    class Recorded(Event, AggregateCreated):
        TOPIC = "hot:IDEMPOTENCY_RECORDED"
        fingerprint: str
        human_id: UUID
        human_version: int

        def apply(self, record: IdempotencyRecord) -> None:
            record.fingerprint = self.fingerprint
            record.human_id = self.human_id
            record.human_version = self.human_version

    @classmethod
    def record(cls, idempotency: IdempotencyKey, human_id: UUID, version: int) -> IdempotencyRecord:
        return cls._create(
            cls.Recorded,
            id=idempotency.record_id,
            fingerprint=idempotency.fingerprint,
            human_id=human_id,
            human_version=version,
        )

    def answer_for(self, idempotency: IdempotencyKey) -> tuple[UUID, int]:
        """The human and version the first request produced, if this is the same request."""
        if self.fingerprint != idempotency.fingerprint or self.human_id is None:
            raise IdempotencyKeyReusedError(idempotency.key)
        return self.human_id, self.human_version
