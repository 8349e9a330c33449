"""Declarative upcasts: what a request may declare, and what applying one makes of a payload."""

from __future__ import annotations

from typing import Any

import pytest

from hot.application.schema_errors import InvalidSchemaError
from hot.application.upcasts import parse_upcast
from hot_follow.upcasts import Upcast, upcast_chain
from tests.standup import STANDUP_V1_PAYLOAD, STANDUP_V1_TO_V2


def test_standup_v1_payload_upcast_to_v2_gets_the_defaults() -> None:
    upcast = parse_upcast(STANDUP_V1_TO_V2).apply(STANDUP_V1_PAYLOAD)

    assert upcast == {**STANDUP_V1_PAYLOAD, "issues": [], "notes": [], "isDelivered": False}


def test_rename_then_drop_then_defaults_for_absent_fields_only() -> None:
    upcast = parse_upcast(
        {"rename": {"title": "name"}, "drop": ["legacy"], "defaults": {"legacy": 0, "size": 1}}
    )

    assert upcast.apply({"title": "Hari", "legacy": True, "size": 3}) == {
        "name": "Hari",
        "legacy": 0,
        "size": 3,
    }


def test_renames_happen_at_once_so_two_fields_can_swap() -> None:
    upcast = parse_upcast({"rename": {"a": "b", "b": "a"}})

    assert upcast.apply({"a": 1, "b": 2}) == {"a": 2, "b": 1}


def test_a_renamed_value_wins_over_a_field_already_holding_the_new_name() -> None:
    assert parse_upcast({"rename": {"old": "new"}}).apply({"old": 1, "new": 2}) == {"new": 1}


def test_applying_leaves_the_payload_alone_and_never_shares_a_default() -> None:
    payload = {"name": "Hari"}
    upcast = parse_upcast({"defaults": {"tags": []}})

    first, second = upcast.apply(payload), upcast.apply(payload)
    first["tags"].append("x")

    assert payload == {"name": "Hari"}
    assert second == {"name": "Hari", "tags": []}


def test_a_chain_applies_each_version_in_turn_and_none_is_no_change() -> None:
    steps = [parse_upcast({"rename": {"a": "b"}}), None, parse_upcast({"rename": {"b": "c"}})]

    assert upcast_chain({"a": 1}, steps) == {"c": 1}
    assert upcast_chain({"a": 1}, []) == {"a": 1}


def test_an_upcast_reads_back_from_its_json() -> None:
    upcast = parse_upcast({"rename": {"a": "b"}, "defaults": {"c": [1]}, "drop": ["d"]})

    assert upcast.to_json() == {"rename": {"a": "b"}, "defaults": {"c": [1]}, "drop": ["d"]}
    assert parse_upcast(upcast.to_json()) == upcast
    assert parse_upcast({}) == Upcast()


@pytest.mark.parametrize(
    ("declared", "path"),
    [
        ([], "upcast"),
        ({"renam": {"a": "b"}}, "upcast.renam"),
        ({"rename": ["a"]}, "upcast.rename"),
        ({"rename": {"a": 1}}, "upcast.rename.a"),
        ({"rename": {"a": "c", "b": "c"}}, "upcast.rename.b"),
        ({"defaults": [1]}, "upcast.defaults"),
        ({"drop": "a"}, "upcast.drop"),
        ({"drop": ["a", 2]}, "upcast.drop.1"),
        ({"rename": {"a": "b"}, "drop": ["b"]}, "upcast.drop.0"),
        ({"defaults": {"notes": ["a\x00"]}}, "upcast.defaults.notes.0"),
    ],
)
def test_a_malformed_upcast_is_refused_naming_its_path(declared: Any, path: str) -> None:
    with pytest.raises(InvalidSchemaError) as refused:
        parse_upcast(declared)

    assert refused.value.path == path
    assert refused.value.reason
