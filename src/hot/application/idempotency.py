"""Idempotency records: a key names one request; a retry gets the first answer.

A record is a row of its own table, keyed by an id derived from the key, written in the
same transaction as the command's events: if the command committed, so did the record,
and two racing requests with one key cannot both commit (the second's transaction fails
on the record's key, and it is decided again, where it finds the first answer).
Records are no facts about humans: they stay out of the log that teams read.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from uuid import UUID, uuid5

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


@dataclass(frozen=True)
class IdempotencyRecord:
    """Which request a key named (its fingerprint), and the human version it produced."""

    id: UUID
    fingerprint: str
    human_id: UUID
    human_version: int

    @classmethod
    def of(cls, idempotency: IdempotencyKey, human_id: UUID, version: int) -> IdempotencyRecord:
        return cls(idempotency.record_id, idempotency.fingerprint, human_id, version)

    def answer_for(self, idempotency: IdempotencyKey) -> tuple[UUID, int]:
        """The human and version the first request produced, if this is the same request."""
        if self.fingerprint != idempotency.fingerprint:
            raise IdempotencyKeyReusedError(idempotency.key)
        return self.human_id, self.human_version
