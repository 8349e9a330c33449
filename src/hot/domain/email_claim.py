"""``EmailClaim``: the aggregate that makes an email unique among humans.

Its id is derived from the normalised email (an HMAC with a server secret), so two
registrations of one address create the same aggregate and the second insert
conflicts in the database: the uniqueness holds even when the registrations race.
The claim never stores the email, only which human holds it, and without the secret
its id does not tell which email it is for.
"""

from __future__ import annotations

import hashlib
import hmac
from uuid import UUID

from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate, Snapshot

from hot.domain.values import normalised_email


class EmailClaim(BaseAggregate[UUID]):
    """Which human, if any, holds an email address."""

    TOPIC = "hot:EmailClaim"
    Snapshot = Snapshot

    def __init__(self) -> None:
        self.holder: UUID | None = None

    class Event(AggregateEvent):
        pass

    class Claimed(Event, AggregateCreated):
        TOPIC = "hot:EMAIL_CLAIMED"
        holder: UUID

        def apply(self, claim: EmailClaim) -> None:
            claim.holder = self.holder

    class Reclaimed(Event):
        TOPIC = "hot:EMAIL_RECLAIMED"
        holder: UUID

        def apply(self, claim: EmailClaim) -> None:
            claim.holder = self.holder

    class Released(Event):
        TOPIC = "hot:EMAIL_RELEASED"

        def apply(self, claim: EmailClaim) -> None:
            claim.holder = None

    @staticmethod
    def id_for(email: str, secret: bytes) -> UUID:
        digest = hmac.new(secret, normalised_email(email).encode(), hashlib.sha256).digest()
        return UUID(bytes=digest[:16], version=5)

    @classmethod
    def claim(cls, email: str, holder: UUID, secret: bytes) -> EmailClaim:
        return cls._create(cls.Claimed, id=cls.id_for(email, secret), holder=holder)

    @property
    def is_held(self) -> bool:
        return self.holder is not None

    def reclaim(self, holder: UUID) -> None:
        """Take a released address for ``holder``; the caller checked it is free."""
        self.trigger_event(self.Reclaimed, holder=holder)

    def release(self) -> None:
        self.trigger_event(self.Released)
