"""``KnownState``: what a process knows, kept up with the log, never behind what it learned."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

from hot.application.decoding import Row
from hot.application.known import UNKNOWN, KnownState


@dataclass
class Counter:
    """An aggregate whose state is how many events it had."""

    id: UUID = field(default_factory=uuid4)
    version: int = 1


@dataclass(frozen=True)
class Bump:
    """Its event: one more."""

    def mutate(self, counter: Counter) -> Counter:
        counter.version += 1
        return counter


def _stored(counter_id: UUID, version: int, position: int, state: bytes = b"{}") -> Row:
    return Row(position, counter_id, version, "t", state)


def _known(decoded: list[Row] | None = None) -> KnownState:
    def decode(stored: Row) -> Any:
        if decoded is not None:
            decoded.append(stored)
        return Bump()

    return KnownState(decode, limit=3, seen_limit=10)


def test_a_known_aggregate_one_version_behind_takes_the_event() -> None:
    decoded: list[Row] = []
    known, counter = _known(decoded), Counter()
    known.remember([counter])

    known.learn([_stored(counter.id, 2, position=7)])

    assert known.get(counter.id) == Counter(counter.id, 2)
    assert len(decoded) == 1
    assert known.position == 7


def test_what_it_knows_already_is_not_decoded_again() -> None:
    decoded: list[Row] = []
    known, counter = _known(decoded), Counter(version=2)
    known.remember([counter])  # committed here: remembered before its notification

    known.learn([_stored(counter.id, 2, position=7)])

    assert decoded == []
    assert known.get(counter.id) == counter


def test_an_aggregate_further_behind_is_dropped_and_an_unknown_one_stays_unknown() -> None:
    known, behind, stranger = _known(), Counter(), Counter()
    known.remember([behind])

    known.learn([_stored(behind.id, 3, position=8), _stored(stranger.id, 5, position=9)])

    assert known.get(behind.id) is None  # version 2 is missing
    assert known.get(stranger.id) is None
    assert known.position == 9


def test_a_state_older_than_what_was_learned_is_never_remembered() -> None:
    known, counter = _known(), Counter(version=3)
    known.learn([_stored(counter.id, 4, position=12)])  # another process's next event

    known.remember([counter])  # a late answer, or a load that began before it

    assert known.get(counter.id) is None
    known.remember([Counter(counter.id, 4)])
    assert known.get(counter.id) == Counter(counter.id, 4)


def test_callers_get_copies() -> None:
    known, counter = _known(), Counter()
    known.remember([copy.deepcopy(counter)])

    mine = known.get(counter.id)
    assert mine is not None
    mine.version = 99

    assert known.get(counter.id) == counter


def test_it_keeps_the_aggregates_used_last_up_to_its_limit() -> None:
    known = _known()
    first, *rest = [Counter() for _ in range(4)]
    known.remember([first, *rest[:2]])
    known.get(first.id)  # used: kept

    known.remember([rest[2]])

    assert known.get(first.id) is not None
    assert known.get(rest[0].id) is None


def test_losing_track_forgets_everything_until_it_follows_again() -> None:
    known, counter = _known(), Counter()
    known.remember([counter])
    known.learn([_stored(counter.id, 2, position=5)])

    known.lose_track()
    assert (known.position, known.get(counter.id)) == (UNKNOWN, None)

    known.follow_from(40)
    assert known.position == 40


def test_it_wants_the_states_of_the_events_it_would_apply_and_no_others() -> None:
    known, counter, stranger = _known(), Counter(), Counter()
    known.remember([counter])
    rows = [
        _stored(counter.id, 1, position=4, state=b""),  # known already
        _stored(counter.id, 2, position=5, state=b""),  # to apply: its state is wanted
        _stored(stranger.id, 7, position=6, state=b""),  # not known: nothing to apply
        _stored(counter.id, 3, position=8),  # noticed with its state
    ]

    assert known.wanted(rows) == [5]


def test_an_event_to_apply_without_its_state_drops_the_aggregate() -> None:
    known, counter = _known(), Counter()
    known.remember([counter])

    known.learn([_stored(counter.id, 2, position=5, state=b"")])

    assert known.get(counter.id) is None
    assert known.position == 5
