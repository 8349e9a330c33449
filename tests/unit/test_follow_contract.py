"""The light package's statement of the read contract is HoT's own.

``hot_follow`` cannot import HoT's catalog (it would need HoT's server), so it lists
the built-in events and their personal fields; these tests hold that table, and the
name rule a follower checks its filter by, equal to what HoT itself does.
"""

from __future__ import annotations

import pytest

import hot.application
import hot.domain
import hot.domain.event_types
import hot.infra.relay
import hot_follow.events
import hot_follow.names
import hot_follow.representation
import hot_follow.streams
from hot.application.catalog import CATALOG
from hot.domain.errors import InvalidEventTypeError
from hot.domain.event_types import checked_type_name
from hot_follow.names import BUILT_IN_PERSONAL_FIELDS, can_name_events, unknown_names


def test_hot_reads_and_writes_with_the_contracts_own_pieces() -> None:
    """One copy: what HoT uses is what the light package holds, not a copy of it."""
    assert hot.application.RecordedEvent is hot_follow.events.RecordedEvent
    assert hot.infra.relay.StreamKeys is hot_follow.streams.StreamKeys
    assert hot.domain.FORGOTTEN is hot_follow.representation.FORGOTTEN
    assert hot.domain.event_types.TYPE_NAME is hot_follow.names.TYPE_NAME


def test_the_built_ins_and_their_personal_fields_are_the_catalogs() -> None:
    assert dict(BUILT_IN_PERSONAL_FIELDS) == {t.name: t.personal_fields for t in CATALOG}


def hot_can_name_events(name: str) -> bool:
    """What HoT accepts: a built-in's name, or one a team's type may have."""
    if name in CATALOG:
        return True
    try:
        checked_type_name(name)
    except InvalidEventTypeError:
        return False
    return True


@pytest.mark.parametrize(
    "name",
    [
        *CATALOG.names,
        "RECEIVED_STANDUP_UPDATE",
        "A",
        "A1_B2",
        "X" * 64,
        "X" * 65,
        "HUMAN_SOMETHING_NEW",
        "EVENT_TYPE_X",
        "lower_case",
        "DOUBLE__UNDERSCORE",
        "_LEADING",
        "TRAILING_",
        "1_DIGIT_FIRST",
        "hot:internal",
        "",
    ],
)
def test_a_follower_accepts_the_names_hot_accepts(name: str) -> None:
    assert can_name_events(name) == hot_can_name_events(name)
    assert unknown_names([name]) == ([] if hot_can_name_events(name) else [name])
