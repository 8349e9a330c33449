"""``Claim``: what makes a value unique among humans (an email, an external id).

A claim's id is derived from the value (an HMAC with a server secret), so two humans
taking one value create the same aggregate and the second insert conflicts in the
database: the uniqueness holds even when the commands race. A claim never stores the
value, only which human holds it, and without the secret its id does not tell which
value it is for. Each kind of claim (``EmailClaim``, ``ExternalIdClaim``) is a subclass
with its own stable topics; this base class holds what they share.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Self
from uuid import UUID

from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate


class Claim(BaseAggregate[UUID]):
    """Which human, if any, holds a value. Subclasses name their events' topics."""

    def __init__(self) -> None:
        self.holder: UUID | None = None

    class Event(AggregateEvent):
        pass

    class Claimed(Event, AggregateCreated):
        holder: UUID

        def apply(self, claim: Claim) -> None:
            claim.holder = self.holder

    class Reclaimed(Event):
        holder: UUID

        def apply(self, claim: Claim) -> None:
            claim.holder = self.holder

    class Released(Event):
        def apply(self, claim: Claim) -> None:
            claim.holder = None

    @staticmethod
    def keyed_id(secret: bytes, value: str) -> UUID:
        """The id of the claim on ``value``: a keyed hash, that tells nothing without ``secret``."""
        digest = hmac.new(secret, value.encode(), hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=5)

    @classmethod
    def taken(cls, claim_id: UUID, holder: UUID) -> Self:
        """A new claim, held by ``holder``; the caller checked that none exists."""
        return cls._create(cls.Claimed, id=claim_id, holder=holder)

    @property
    def is_held(self) -> bool:
        return self.holder is not None

    def reclaim(self, holder: UUID) -> None:
        """Take a released value for ``holder``; the caller checked it is free."""
        self.trigger_event(self.Reclaimed, holder=holder)

    def release(self) -> None:
        self.trigger_event(self.Released)
