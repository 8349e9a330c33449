"""The ``Human`` aggregate: a person's history at Trantor, and the rules it obeys.

Each event class has an explicit, stable ``TOPIC`` (its catalog name), so stored
events never depend on where the class lives. Public methods check the rules and
then trigger an event; an event's ``apply`` only sets state, because it is replayed
on every load.
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar
from uuid import UUID, uuid4

from eventsourcing.domain import AggregateCreated, AggregateEvent, BaseAggregate, Snapshot

from hot.domain.errors import (
    AlreadyAttendedError,
    AlreadyMemberError,
    AttendanceInFutureError,
    AttendanceOutsideMembershipError,
    HumanForgottenError,
    LeaveBeforeJoinError,
    NothingChangedError,
    NotMemberError,
    RejoinTooEarlyError,
)
from hot.domain.values import (
    FORGOTTEN,
    DetailChecks,
    HumanKind,
    Membership,
    checked_email,
    checked_external_id,
    checked_free_text,
    checked_kind,
    checked_name,
    checked_role,
    checked_scheme,
    normalised_email,
)


class Human(BaseAggregate[UUID]):
    """A human of Trantor (employee, contractor, visitor, ...) and their memberships."""

    TOPIC = "hot:Human"
    Snapshot = Snapshot
    class_version = 2  # of its snapshots' state: 2 has ``external_ids``

    def __init__(self) -> None:
        # State is set by the Registered event; these are its types.
        self.name: str = ""
        self.email: str = ""
        self.kind: HumanKind = HumanKind.OTHER
        self.memberships: list[Membership] = []
        self.attended_days: set[date] = set()
        self.external_ids: dict[str, str] = {}  # scheme -> value
        self.forgotten: bool = False

    PERSONAL_STATE: ClassVar[tuple[str, ...]] = ("name", "email", "external_ids")
    """What of a human's state is personal: stored encrypted, forgotten on request."""

    @staticmethod
    def forgotten_state(field: str) -> Any:
        """What the personal ``field`` of a human's state reads as once they are forgotten."""
        return {} if field == "external_ids" else FORGOTTEN

    @staticmethod
    def upcast_v1_v2(state: dict[str, Any]) -> None:
        """A snapshot from before external ids: the human had none."""
        state["external_ids"] = {}

    class Event(AggregateEvent):
        """Every human event carries its own id, chosen by the writer or generated.

        ``PERSONAL_FIELDS`` names the payload fields that are personal data.
        """

        PERSONAL_FIELDS: ClassVar[tuple[str, ...]] = ()
        event_id: UUID

    class Registered(Event, AggregateCreated):
        """A human became known to HoT, with a name, an email and a kind."""

        TOPIC = "HUMAN_REGISTERED"
        PERSONAL_FIELDS = ("name", "email")
        name: str
        email: str
        kind: HumanKind

        def apply(self, human: Human) -> None:
            human.name = self.name
            human.email = self.email
            human.kind = HumanKind(self.kind)
            human.memberships = []
            human.attended_days = set()

    class Joined(Event):
        """A membership began on ``on`` (the effective date), in a role."""

        TOPIC = "HUMAN_JOINED"
        on: date
        role: str

        def apply(self, human: Human) -> None:
            human.memberships.append(Membership(joined_on=self.on, role=self.role))

    class Left(Event):
        """The current membership ended; ``on`` is its last day."""

        TOPIC = "HUMAN_LEFT"
        PERSONAL_FIELDS = ("reason",)
        on: date
        reason: str | None

        def apply(self, human: Human) -> None:
            human.memberships[-1] = human.memberships[-1].closed(self.on)

    class Attended(Event):
        """The human attended on the day ``on``."""

        TOPIC = "HUMAN_ATTENDED"
        on: date

        def apply(self, human: Human) -> None:
            human.attended_days.add(self.on)

    class DetailsChanged(Event):
        """The human's name and/or email changed; a field left null is unchanged."""

        TOPIC = "HUMAN_DETAILS_CHANGED"
        PERSONAL_FIELDS = ("name", "email")
        name: str | None
        email: str | None

        def apply(self, human: Human) -> None:
            if self.name is not None:
                human.name = self.name
            if self.email is not None:
                human.email = self.email

    class ExternalIdSet(Event):
        """The human's id in an external scheme (``ecode``, say) is now ``value``.

        An external id is unique within its scheme; setting a new one replaces the old.
        """

        TOPIC = "HUMAN_EXTERNAL_ID_SET"
        PERSONAL_FIELDS = ("value",)
        scheme: str
        value: str

        def apply(self, human: Human) -> None:
            human.external_ids = {**human.external_ids, self.scheme: self.value}

    class Forgotten(Event):
        """The human's personal data was destroyed at their request; ``by`` says who did it.

        Their personal fields read as forgotten everywhere from now on; the other facts
        (dates, roles, kind) remain for statistics, and no further command is accepted.
        """

        TOPIC = "HUMAN_FORGOTTEN"
        by: str

        def apply(self, human: Human) -> None:
            human.name = FORGOTTEN
            human.email = FORGOTTEN
            human.external_ids = {}  # their claims were released with the forgetting
            human.forgotten = True

    class TeamEventRecorded(Event):
        """A fact of a team's own event type (see ``EventTypeDefinition``) about the human.

        Stored under the type's name, not this class's topic: the log shows it as the team
        named it. HoT has no rules for it beyond its schema (checked by the caller), the
        human's existence, and that the human is not forgotten. ``personal_fields`` names
        the payload's personal properties, sealed with the human's key like built-in ones.
        """

        TOPIC = "hot:TEAM_EVENT"
        name: str
        version: int
        payload: dict[str, Any]
        personal_fields: list[str]

        def apply(self, human: Human) -> None:
            pass  # a team's fact changes nothing HoT's rules read

    # Commands ---------------------------------------------------------------------

    @classmethod
    def register(
        cls,
        name: str,
        email: str,
        kind: HumanKind,
        *,
        human_id: UUID | None = None,
        event_id: UUID | None = None,
    ) -> Human:
        """A new human. The caller must hold the claim on the email (see ``EmailClaim``)."""
        checks = DetailChecks()
        name = checks(checked_name, name, name)
        email = checks(checked_email, email, email)
        kind = checks(checked_kind, kind, HumanKind.OTHER)
        checks.done()
        return cls._create(
            cls.Registered,
            id=human_id or uuid4(),
            event_id=event_id or uuid4(),
            name=name,
            email=email,
            kind=kind,
        )

    def join(self, on: date, role: str, *, event_id: UUID | None = None) -> None:
        self._check_not_forgotten()
        current = self.current_membership
        if current is not None:
            raise AlreadyMemberError(current.joined_on)
        last = self.memberships[-1] if self.memberships else None
        if last is not None and last.left_on is not None and on <= last.left_on:
            raise RejoinTooEarlyError(on, last.left_on)
        self._trigger(self.Joined, event_id, on=on, role=checked_role(role))

    def leave(self, on: date, reason: str | None = None, *, event_id: UUID | None = None) -> None:
        self._check_not_forgotten()
        current = self.current_membership
        if current is None:
            raise NotMemberError()
        if on < current.joined_on:
            raise LeaveBeforeJoinError(on, current.joined_on)
        reason = checked_free_text("reason", reason) if reason is not None else None
        self._trigger(self.Left, event_id, on=on, reason=reason)

    def attend(self, on: date, *, today: date, event_id: UUID | None = None) -> None:
        self._check_not_forgotten()
        if on > today:
            raise AttendanceInFutureError(on, today)
        if not any(m.covers(on) for m in self.memberships):
            raise AttendanceOutsideMembershipError(on)
        if on in self.attended_days:
            raise AlreadyAttendedError(on)
        self._trigger(self.Attended, event_id, on=on)

    def change_details(
        self,
        name: str | None = None,
        email: str | None = None,
        *,
        event_id: UUID | None = None,
    ) -> None:
        """Change what differs; the caller moves the email claim when the email changes."""
        self._check_not_forgotten()
        checks = DetailChecks()
        new_name = None if name is None else checks(checked_name, name, None)
        new_email = None if email is None else checks(checked_email, email, None)
        checks.done()
        if new_name == self.name:
            new_name = None
        if new_email == self.email:
            new_email = None
        if new_name is None and new_email is None:
            raise NothingChangedError()
        self._trigger(self.DetailsChanged, event_id, name=new_name, email=new_email)

    def record_team_event(
        self,
        name: str,
        version: int,
        payload: dict[str, Any],
        personal_fields: list[str],
        *,
        event_id: UUID | None = None,
    ) -> None:
        """Record a team's fact about the human; its payload was checked against its schema."""
        self._check_not_forgotten()
        self.trigger_event(
            self.TeamEventRecorded,
            event_id=event_id or uuid4(),
            name=name,
            version=version,
            payload=payload,
            personal_fields=personal_fields,
        )

    def set_external_id(self, scheme: str, value: str, *, event_id: UUID | None = None) -> None:
        """Set the human's id in ``scheme``; the caller claims ``value`` in the scheme and
        releases the value it replaces (see ``ExternalIdClaim``)."""
        self._check_not_forgotten()
        checks = DetailChecks()
        scheme = checks(checked_scheme, scheme, scheme)
        value = checks(checked_external_id, value, value)
        checks.done()
        if self.external_ids.get(scheme) == value:
            raise NothingChangedError()
        self._trigger(self.ExternalIdSet, event_id, scheme=scheme, value=value)

    def __deepcopy__(self, memo: dict[int, Any]) -> Human:
        """A copy whose containers are copied (their items are immutable): fast, and safe.

        Loads hand out copies of cached humans, so a failed command cannot corrupt the cache.
        """
        clone = object.__new__(type(self))
        state = dict(self.__dict__)
        state["memberships"] = list(self.memberships)
        state["attended_days"] = set(self.attended_days)
        state["external_ids"] = dict(self.external_ids)
        state["_pending_events"] = list(self._pending_events)
        state.setdefault("forgotten", False)
        clone.__dict__.update(state)
        return clone

    def forget(self, by: str, *, event_id: UUID | None = None) -> None:
        """Record that the human's personal data is destroyed (the caller destroys the key)."""
        self._check_not_forgotten()
        self._trigger(self.Forgotten, event_id, by=by)

    def _check_not_forgotten(self) -> None:
        if self.forgotten:
            raise HumanForgottenError(self.id)

    # State --------------------------------------------------------------------------

    @property
    def current_membership(self) -> Membership | None:
        """The open membership, if the human is a member now."""
        if self.memberships and self.memberships[-1].left_on is None:
            return self.memberships[-1]
        return None

    @property
    def status(self) -> str:
        """``registered`` (never joined), ``member``, or ``former`` (left)."""
        if not self.memberships:
            return "registered"
        return "member" if self.current_membership is not None else "former"

    def email_changes_claim(self, email: str) -> bool:
        """Whether taking ``email`` means claiming another address than the one held."""
        return normalised_email(email) != normalised_email(self.email)

    def _trigger(self, event_class: type[Human.Event], event_id: UUID | None, **kw: Any) -> None:
        self.trigger_event(event_class, event_id=event_id or uuid4(), **kw)


HUMAN_EVENT_CLASSES: tuple[type[Human.Event], ...] = (
    Human.Registered,
    Human.Joined,
    Human.Left,
    Human.Attended,
    Human.DetailsChanged,
    Human.ExternalIdSet,
    Human.Forgotten,
)
"""Every event a human can have, in the order of a typical life."""
