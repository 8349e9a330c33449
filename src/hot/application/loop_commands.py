"""Commands decided on the event loop, about humans whose state this process knows.

``attend``, ``join`` and ``leave`` about a human this process holds in its cache are
decided where the request was read: the known state is copied, the domain decides,
and the new events go to the group committer, whose future the loop awaits. No
worker thread is taken for such a request, and nothing is read from PostgreSQL.

Everything else goes to ``otherwise``, the blocking command in a worker thread, which
decides on fresh state: a human not known here, an ``Idempotency-Key`` (its record
must be looked up), an ``If-Match`` the known state does not meet, a rule violation
(confirmed on fresh state, so a stale cache never changes an answer), and a lost race
(the commit conflicted: the known state was stale, and is dropped). Commands about one
human take turns here, in the order they arrived; a command is answered only after
its commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from uuid import UUID

from eventsourcing.domain import BaseAggregate
from eventsourcing.persistence import IntegrityError, Recording

from hot.application.group_commit import GroupCommitter
from hot.application.idempotency import Idempotency
from hot.application.views import CommandResult
from hot.domain import DomainError, Human

Otherwise = Callable[[], Awaitable[CommandResult]]
Decide = Callable[[Human], None]


@dataclass
class _Turn:
    """The commands about one human in this process: one decides at a time."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    users: int = 0


class LoopCommands:
    """The event-loop path of the commands that change a known human by one event."""

    def __init__(
        self,
        cache: Any,
        committer: GroupCommitter,
        today: Callable[[], date],
        remember: Callable[[Sequence[BaseAggregate[UUID]]], None],
    ) -> None:
        self._cache = cache
        self._committer = committer
        self._today = today
        self._remember = remember
        self._turns: dict[UUID, _Turn] = {}

    async def attend(
        self,
        human_id: UUID,
        on: date,
        *,
        expected_version: int | None,
        idempotency: Idempotency | None,
        deadline: float,
        otherwise: Otherwise,
    ) -> CommandResult:
        def decide(human: Human) -> None:
            human.attend(on, today=self._today())

        return await self._run(human_id, decide, expected_version, idempotency, deadline, otherwise)

    async def join(
        self,
        human_id: UUID,
        on: date,
        role: str,
        *,
        expected_version: int | None,
        idempotency: Idempotency | None,
        deadline: float,
        otherwise: Otherwise,
    ) -> CommandResult:
        def decide(human: Human) -> None:
            human.join(on, role)

        return await self._run(human_id, decide, expected_version, idempotency, deadline, otherwise)

    async def leave(
        self,
        human_id: UUID,
        on: date,
        reason: str | None,
        *,
        expected_version: int | None,
        idempotency: Idempotency | None,
        deadline: float,
        otherwise: Otherwise,
    ) -> CommandResult:
        def decide(human: Human) -> None:
            human.leave(on, reason)

        return await self._run(human_id, decide, expected_version, idempotency, deadline, otherwise)

    async def _run(
        self,
        human_id: UUID,
        decide: Decide,
        expected_version: int | None,
        idempotency: Idempotency | None,
        deadline: float,
        otherwise: Otherwise,
    ) -> CommandResult:
        turn = self._turns.get(human_id)
        if turn is None:
            turn = self._turns[human_id] = _Turn()
        turn.users += 1
        try:
            async with turn.lock:
                result = None
                if idempotency is None:
                    result = await self._attempt(human_id, decide, expected_version, deadline)
                return result if result is not None else await otherwise()
        finally:
            turn.users -= 1
            if turn.users == 0:
                del self._turns[human_id]

    async def _attempt(
        self, human_id: UUID, decide: Decide, expected_version: int | None, deadline: float
    ) -> CommandResult | None:
        """The command decided on the known state and committed; None if it cannot be."""
        human = self._known(human_id)
        if human is None or (expected_version is not None and human.version != expected_version):
            return None
        try:
            decide(human)
        except DomainError:
            return None
        try:
            async with asyncio.timeout(deadline):
                recordings = await self._committer.commit_soon(human.collect_events(), (human,))
        except IntegrityError:
            with contextlib.suppress(KeyError):  # stale: the next command loads afresh
                self._cache.get(human_id, evict=True)
            return None
        self._remember((human,))
        return result_of(human, recordings)

    def _known(self, human_id: UUID) -> Human | None:
        """A copy of the human as this process last knew it, if it knows them."""
        try:
            known = self._cache.get(human_id)
        except KeyError:
            return None
        return copy.deepcopy(known) if isinstance(known, Human) else None


def result_of(human: Human, recordings: Sequence[Recording[UUID]]) -> CommandResult:
    """What a command did to ``human``: its new version and the log position of its events."""
    position = max(
        r.notification.id for r in recordings if r.domain_event.originator_id == human.id
    )
    return CommandResult(human.id, human.version, position)
