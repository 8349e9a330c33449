"""``Tracer``: the spans of a command, from its decision to its commit, for whoever traces.

The application knows when a command starts and ends, and which commands one
transaction carries; it hands these to a ``Tracer`` and knows nothing of how spans
are kept (the composition root gives it ``hot.infra.tracing``'s, OpenTelemetry's, when
the operator turns traces on). Without one, ``NO_TRACER`` does nothing: a command pays
three calls on a shared object that returns at once.

A command's span crosses a thread: the pipeline starts it on the event loop and hands
it, in the command's ``Commit``, to the group committer's thread, which opens the
transaction's span as a child of the first traced command it carries and linked to the
others (see ``hot.infra.tracing``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any, Protocol
from uuid import UUID


class CommandSpan(Protocol):
    """A command's span, started: what it decided about and how it ended."""

    @property
    def context(self) -> Any:
        """What the command's commit carries to the committer's thread (None: not traced)."""

    def committed(self, human_id: UUID, position: int) -> None:
        """The command committed events of ``human_id``, its last at ``position``."""

    def end(self, outcome: str, error: BaseException | None = None) -> None:
        """The command ended with ``outcome`` (``hot.application.meter``'s words)."""


class TransactionSpan(Protocol):
    """A transaction's span, started: how it ended."""

    def committed(self, first: int, last: int) -> None:
        """COMMIT returned: the transaction's events are at ``first`` to ``last``."""


class Tracer(Protocol):
    """Starts the spans of commands and of the transactions that commit them."""

    def command(self, name: str, human_id: UUID | None) -> CommandSpan:
        """The span of a command ``name`` about ``human_id`` (None: a new human), started
        as a child of the current one (the HTTP request's)."""

    def transaction(
        self, commands: Sequence[Any]
    ) -> contextlib.AbstractContextManager[TransactionSpan]:
        """In the committer's thread, for the length of a block: the span of a transaction
        that commits ``commands`` (their ``CommandSpan.context``), current in the block."""


class _NoSpan:
    context = None

    def committed(self, *args: Any) -> None:
        pass

    def end(self, outcome: str, error: BaseException | None = None) -> None:
        pass

    def __enter__(self) -> _NoSpan:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


_NO_SPAN = _NoSpan()


class _NoTracer:
    def command(self, name: str, human_id: UUID | None) -> CommandSpan:
        return _NO_SPAN

    def transaction(self, commands: Sequence[Any]) -> _NoSpan:
        return _NO_SPAN


NO_TRACER: Tracer = _NoTracer()
