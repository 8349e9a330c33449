"""``Projection``: a team's own state, built from events by one handler per event name.

    class Headcount(Projection[sqlite3.Connection]):
        name = "headcount"

        def setup(self, tx):
            tx.execute("CREATE TABLE IF NOT EXISTS members (human_id TEXT PRIMARY KEY)")

        def clear(self, tx):
            tx.execute("DELETE FROM members")

        @handles("HUMAN_JOINED")
        def joined(self, event, tx):
            tx.execute("INSERT INTO members VALUES (?)", (str(event.subject),))

A handler gets the event and the open transaction of the projection's database
(``Tx``: a psycopg or sqlite3 connection). It writes through that transaction and
nothing else, so that its writes commit together with the projection's position,
or not at all: that is what makes every effect happen exactly once.

``@handles(..., batch=True)`` makes a handler take a list instead: each run of
consecutive events of its names, in log order, so that it can write them with one
``executemany`` (a rebuild goes several times faster). Runs are never reordered
with the events around them.

A projection that keeps personal data (names, emails, reasons: it runs with
``personal=True``) must forget a human when HoT does. It defines
``forget(human_id, tx)``, which the runner calls for each ``HUMAN_FORGOTTEN``, in
the transaction of that event's batch (so exactly once, like any handler), after
the handler of ``HUMAN_FORGOTTEN`` if it has one too:

        def forget(self, human_id, tx):
            tx.execute("UPDATE members SET name = '(forgotten)' WHERE human_id = ?",
                       (str(human_id),))
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from hot_follow.events import RecordedEvent
from hot_follow.follower import checked_names

Tx = TypeVar("Tx")
F = TypeVar("F", bound=Callable[..., None])

FORGETTING = "HUMAN_FORGOTTEN"  # the event after which ``forget`` is called
_MARK = "__hot_handles__"
_BATCH = "__hot_batch__"


def handles(*names: str, batch: bool = False) -> Callable[[F], F]:
    """Make a projection method the handler of the events named ``names``.

    With ``batch``, it is called with a list: a run of consecutive such events.
    """
    known = checked_names(names)
    if not known:
        raise TypeError("@handles needs at least one event name.")

    def mark(method: F) -> F:
        setattr(method, _MARK, known)
        setattr(method, _BATCH, batch)
        return method

    return mark


class Projection(Generic[Tx]):
    """Handlers per event name, plus how to create and clear the projection's own tables.

    ``name`` keys the projection's stored position: two projections must not share one.
    """

    name: ClassVar[str]
    handlers: ClassVar[dict[str, str]] = {}  # event name -> method name
    batched: ClassVar[frozenset[str]] = frozenset()  # the methods that take lists

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        handlers: dict[str, str] = {}
        for klass in reversed(cls.__mro__):  # a subclass's handler wins over its base's
            own: dict[str, str] = {}
            for attribute, value in vars(klass).items():
                for event_name in getattr(value, _MARK, ()):
                    if event_name in own:
                        raise TypeError(
                            f"{klass.__name__}: {event_name} is handled by both "
                            f"{own[event_name]} and {attribute}."
                        )
                    own[event_name] = attribute
            handlers.update(own)
        cls.handlers = handlers
        cls.batched = frozenset(
            m for m in handlers.values() if getattr(getattr(cls, m), _BATCH, False)
        )

    @property
    def names(self) -> tuple[str, ...]:
        """The event names this projection handles: all its follower reads."""
        if self.forgets and FORGETTING not in self.handlers:
            return (*self.handlers, FORGETTING)
        return tuple(self.handlers)

    @property
    def forgets(self) -> bool:
        """Whether this projection defines ``forget`` (it may keep personal data)."""
        return type(self).forget is not Projection.forget

    def setup(self, tx: Tx) -> None:
        """Create the projection's tables if they do not exist (runs at every start)."""

    def clear(self, tx: Tx) -> None:
        """Remove every row the handlers wrote (for a rebuild); in the same transaction."""
        raise NotImplementedError(f"{type(self).__name__} cannot be rebuilt: it has no clear().")

    def forget(self, human_id: UUID, tx: Tx) -> None:
        """Remove the human's personal data from the projection's tables, keeping the
        facts that are not personal (counts, dates); in the same transaction.

        Called for each ``HUMAN_FORGOTTEN``. Events read afterwards (a rebuild) already
        carry ``"(forgotten)"`` in the human's personal fields.
        """
        raise NotImplementedError(f"{type(self).__name__} cannot forget: it has no forget().")

    def handle(self, event: RecordedEvent, tx: Tx) -> None:
        """Apply one event: call its handler, if this projection has one."""
        self.apply([event], tx)

    def apply(self, events: Sequence[RecordedEvent], tx: Tx) -> None:
        """Apply events in log order: each to its handler, or each run to its batch handler;
        a forgetting to ``forget`` too, if this projection forgets."""
        forgets = self.forgets
        for method, group in groupby(events, key=lambda e: self.handlers.get(e.name)):
            run = list(group)
            if method is not None:
                handler = getattr(self, method)
                if method in self.batched:
                    handler(run, tx)
                else:
                    for event in run:
                        handler(event, tx)
            if forgets:
                self._forget_in(run, tx)

    def _forget_in(self, events: Sequence[RecordedEvent], tx: Tx) -> None:
        for event in events:
            if event.name == FORGETTING:
                self.forget(event.subject, tx)
