"""``ExternalIdClaim``: the aggregate that makes an external id unique within its scheme.

Its id is the keyed hash (see ``Claim``) of the scheme and the value, so the value,
which is personal data, is never in clear in a claim.
"""

from __future__ import annotations

from uuid import UUID

from eventsourcing.domain import Snapshot

from hot.domain.claims import Claim


class ExternalIdClaim(Claim):
    """Which human, if any, holds an external id (a value in a scheme)."""

    TOPIC = "hot:ExternalIdClaim"
    Snapshot = Snapshot

    class Event(Claim.Event):
        pass

    class Claimed(Event, Claim.Claimed):
        TOPIC = "hot:EXTERNAL_ID_CLAIMED"

    class Reclaimed(Event, Claim.Reclaimed):
        TOPIC = "hot:EXTERNAL_ID_RECLAIMED"

    class Released(Event, Claim.Released):
        TOPIC = "hot:EXTERNAL_ID_RELEASED"

    @staticmethod
    def id_for(scheme: str, value: str, secret: bytes) -> UUID:
        # "external-id" and a NUL keep these hashes apart from emails' (no email holds a
        # NUL), and a scheme apart from its value (no scheme holds one either).
        return Claim.keyed_id(secret, f"external-id\0{scheme}\0{value}")

    @classmethod
    def claim(cls, scheme: str, value: str, holder: UUID, secret: bytes) -> ExternalIdClaim:
        return cls.taken(cls.id_for(scheme, value, secret), holder)
