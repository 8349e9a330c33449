"""``EmailClaim``: the aggregate that makes an email unique among humans (see ``Claim``).

Its id is the keyed hash of the normalised email, so two spellings of one address
(``Ann@X.org``, ``ann@x.org``) are one claim.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Snapshot

from hot.domain.claims import Claim
from hot.domain.values import normalised_email


class EmailClaim(Claim):
    """Which human, if any, holds an email address."""

    TOPIC = "hot:EmailClaim"
    Snapshot = Snapshot

    class Event(Claim.Event):
        pass

    class Claimed(Event, Claim.Claimed):
        TOPIC = "hot:EMAIL_CLAIMED"

    class Reclaimed(Event, Claim.Reclaimed):
        TOPIC = "hot:EMAIL_RECLAIMED"

    class Released(Event, Claim.Released):
        TOPIC = "hot:EMAIL_RELEASED"

    @staticmethod
    def id_for(email: str, secret: bytes) -> UUID:
        return Claim.keyed_id(secret, normalised_email(email))

    @classmethod
    def claim(cls, email: str, holder: UUID, secret: bytes) -> EmailClaim:
        return cls.taken(cls.id_for(email, secret), holder)
