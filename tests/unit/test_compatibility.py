"""A new version against the previous one, under each compatibility mode.

The table runs every case as the mode demands it: accepted (no breaking change) or
refused with exactly the listed changes, each a path and a word of its reason.
"""

from __future__ import annotations

from typing import Any

import pytest

from hot.application.compatibility import BreakingChange, Compatibility, breaking_changes
from hot.application.upcasts import parse_upcast
from tests.standup import STANDUP_V1, STANDUP_V1_TO_V2, STANDUP_V2

BACKWARD, FORWARD, FULL, NONE = (
    Compatibility.BACKWARD,
    Compatibility.FORWARD,
    Compatibility.FULL,
    Compatibility.NONE,
)
TEXT = {"type": "string"}
COLOUR = {"enum": ["red", "green"]}
COLOURS = {"enum": ["red", "green", "blue"]}


def payload(required: tuple[str, ...] = (), closed: bool = False, **fields: Any) -> dict[str, Any]:
    """A payload schema of ``fields``, requiring ``required``, closed or open."""
    schema: dict[str, Any] = {"type": "object", "properties": fields, "required": list(required)}
    if closed:
        schema["additionalProperties"] = False
    return schema


NAMED = payload(("name",), name=TEXT)
WITH_NOTE = payload(("name",), name=TEXT, note=TEXT)
ADDRESS = payload(address=payload(city=TEXT))

CASES = [
    ("add optional field", BACKWARD, NAMED, WITH_NOTE, None, []),
    ("add optional field, previous open", FORWARD, NAMED, WITH_NOTE, None, []),
    (
        "add field, previous closed",
        FORWARD,
        payload(("name",), closed=True, name=TEXT),
        payload(("name",), closed=True, name=TEXT, note=TEXT),
        None,
        [("note", "not allowed by the previous version")],
    ),
    (
        "add required field without default",
        BACKWARD,
        NAMED,
        payload(("name", "note"), name=TEXT, note=TEXT),
        None,
        [("note", "required by the new version")],
    ),
    (
        "add required field with upcast default",
        BACKWARD,
        NAMED,
        payload(("name", "note"), name=TEXT, note=TEXT),
        {"defaults": {"note": ""}},
        [],
    ),
    (
        "add required field",
        FORWARD,
        NAMED,
        payload(("name", "note"), name=TEXT, note=TEXT),
        None,
        [],
    ),
    ("remove field, new open", BACKWARD, WITH_NOTE, NAMED, None, []),
    (
        "remove field, new closed",
        BACKWARD,
        WITH_NOTE,
        payload(("name",), closed=True, name=TEXT),
        None,
        [("note", "not allowed by the new version")],
    ),
    (
        "remove field, new closed, upcast drops it",
        BACKWARD,
        WITH_NOTE,
        payload(("name",), closed=True, name=TEXT),
        {"drop": ["note"]},
        [],
    ),
    (
        "remove required field",
        FORWARD,
        NAMED,
        payload(note=TEXT),
        None,
        [("name", "required by the previous version")],
    ),
    (
        "change type",
        BACKWARD,
        NAMED,
        payload(("name",), name={"type": "integer"}),
        None,
        [("name", 'type changed from "string" to "integer"')],
    ),
    ("widen enum", BACKWARD, payload(colour=COLOUR), payload(colour=COLOURS), None, []),
    (
        "widen enum",
        FORWARD,
        payload(colour=COLOUR),
        payload(colour=COLOURS),
        None,
        [("colour", "enum widened")],
    ),
    (
        "narrow enum",
        BACKWARD,
        payload(colour=COLOURS),
        payload(colour=COLOUR),
        None,
        [("colour", "enum narrowed")],
    ),
    ("narrow enum", FORWARD, payload(colour=COLOURS), payload(colour=COLOUR), None, []),
    (
        "rename with upcast",
        BACKWARD,
        NAMED,
        payload(("title",), title=TEXT),
        {"rename": {"name": "title"}},
        [],
    ),
    (
        "rename without upcast",
        BACKWARD,
        NAMED,
        payload(("title",), title=TEXT),
        None,
        [("title", "required by the new version")],
    ),
    ("breaking change under NONE", NONE, NAMED, payload(("id",), id={"type": "integer"}), None, []),
    (
        "nested property type change",
        BACKWARD,
        ADDRESS,
        payload(address=payload(city={"type": "integer"})),
        None,
        [("address.city", "type changed")],
    ),
    (
        "widen type list",
        BACKWARD,
        payload(note=TEXT),
        payload(note={"type": ["string", "null"]}),
        None,
        [],
    ),
    (
        "widen type list",
        FORWARD,
        payload(note=TEXT),
        payload(note={"type": ["string", "null"]}),
        None,
        [("note", "type widened")],
    ),
    (
        "narrow an enum and widen a type",
        FULL,
        payload(colour=COLOURS, note=TEXT),
        payload(colour=COLOUR, note={"type": ["string", "null"]}),
        None,
        [("colour", "enum narrowed"), ("note", "type widened")],
    ),
    (
        "array items type change",
        BACKWARD,
        payload(tags={"type": "array", "items": TEXT}),
        payload(tags={"type": "array", "items": {"type": "integer"}}),
        None,
        [("tags[]", "type changed")],
    ),
    (
        "oneOf changed",
        FULL,
        payload(size={"oneOf": [TEXT, {"type": "integer"}]}),
        payload(size={"oneOf": [TEXT, {"type": "number"}]}),
        None,
        [("size", "cannot prove compatible: oneOf changed")],
    ),
    (
        "oneOf unchanged",
        FULL,
        payload(size={"oneOf": [TEXT]}),
        payload(size={"oneOf": [TEXT]}),
        None,
        [],
    ),
    ("close an open schema", BACKWARD, NAMED, payload(("name",), closed=True, name=TEXT), None, []),
    (
        "close a schema whose other fields were numbers",
        BACKWARD,
        {**NAMED, "additionalProperties": {"type": "number"}},
        payload(("name",), closed=True, name=TEXT),
        None,
        [("*", "additionalProperties is false in the new version")],
    ),
    (
        "declare a field the other fields' schema refuses",
        BACKWARD,
        {**NAMED, "additionalProperties": {"type": "number"}},
        {**WITH_NOTE, "additionalProperties": {"type": "number"}},
        None,
        [("note", "type changed")],
    ),
    (
        "tighten a length",
        BACKWARD,
        payload(name={"type": "string", "maxLength": 80}),
        payload(name={"type": "string", "maxLength": 40}),
        None,
        [("name", "maxLength narrowed from 80 to 40")],
    ),
    (
        "loosen a length",
        BACKWARD,
        payload(name={"type": "string", "maxLength": 40}),
        payload(name={"type": "string", "maxLength": 80}),
        None,
        [],
    ),
]


@pytest.mark.parametrize(
    ("mode", "previous", "new", "upcast", "expected"),
    [pytest.param(*case[1:], id=f"{case[1]}: {case[0]}") for case in CASES],
)
def test_a_new_version_is_judged_as_its_mode_demands(
    mode: Compatibility,
    previous: dict[str, Any],
    new: dict[str, Any],
    upcast: dict[str, Any] | None,
    expected: list[tuple[str, str]],
) -> None:
    changes = breaking_changes(previous, new, mode, upcast and parse_upcast(upcast))

    assert [change.path for change in changes] == [path for path, _ in expected]
    for change, (_, problem) in zip(changes, expected, strict=True):
        assert problem in change.reason


def test_the_table_holds_every_mode_and_enough_cases() -> None:
    assert {case[1] for case in CASES} == set(Compatibility)
    assert len(CASES) >= 16


def test_standup_v2_follows_v1_backward_with_its_upcast() -> None:
    upcast = parse_upcast(STANDUP_V1_TO_V2)

    assert breaking_changes(STANDUP_V1, STANDUP_V2, BACKWARD, upcast) == []


def test_standup_v2_without_its_upcast_breaks_backward_for_each_new_required_field() -> None:
    changes = breaking_changes(STANDUP_V1, STANDUP_V2, BACKWARD, None)

    assert [change.path for change in changes] == ["issues", "notes", "isDelivered"]
    assert all("an upcast default would fill it" in change.reason for change in changes)


def test_standup_v2_follows_v1_forward_and_full() -> None:
    upcast = parse_upcast(STANDUP_V1_TO_V2)

    assert breaking_changes(STANDUP_V1, STANDUP_V2, FORWARD, None) == []
    assert breaking_changes(STANDUP_V1, STANDUP_V2, FULL, upcast) == []


def test_a_change_both_halves_of_full_see_is_reported_once() -> None:
    changes = breaking_changes(NAMED, payload(("name",), name={"type": "integer"}), FULL, None)

    assert changes == [
        BreakingChange("name", 'type changed from "string" to "integer": '
                       "old events may hold string, which the new version refuses"),
        BreakingChange("name", 'type changed from "string" to "integer": '
                       "new events may hold integer, which the previous version refuses"),
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("upcast", "path", "problem"),
    [
        ({"rename": {"nickname": "title"}}, "nickname", "previous version does not have"),
        ({"rename": {"name": "label"}}, "label", "which the new version lacks"),
        ({"drop": ["nickname"]}, "nickname", "drops 'nickname', which the previous version"),
        ({"defaults": {"colour": "red"}}, "colour", "but the new version lacks it"),
        ({"defaults": {"note": 7}}, "note", "the upcast's default 7 is refused by the new version"),
    ],
)
def test_an_upcast_naming_what_the_versions_lack_breaks_backward(
    upcast: dict[str, Any], path: str, problem: str
) -> None:
    new = payload(("name", "title", "note"), name=TEXT, title=TEXT, note=TEXT)

    changes = breaking_changes(NAMED, new, BACKWARD, parse_upcast(upcast))

    assert path in [change.path for change in changes]
    assert any(problem in change.reason for change in changes if change.path == path)


def test_a_default_is_checked_against_a_local_reference_of_the_new_schema() -> None:
    new = {
        **payload(("name", "tags"), name=TEXT, tags={"$ref": "#/$defs/tags"}),
        "$defs": {"tags": {"type": "array", "items": TEXT}},
    }

    accepted = breaking_changes(NAMED, new, BACKWARD, parse_upcast({"defaults": {"tags": []}}))
    refused = breaking_changes(NAMED, new, BACKWARD, parse_upcast({"defaults": {"tags": [1]}}))

    assert accepted == []
    assert [change.path for change in refused] == ["tags"]
    assert 'is not of type "string"' in refused[0].reason


def test_a_reference_whose_target_changed_cannot_be_proved_compatible() -> None:
    def with_tag(tag: dict[str, Any]) -> dict[str, Any]:
        return {**payload(tag={"$ref": "#/$defs/tag"}), "$defs": {"tag": tag}}

    changes = breaking_changes(with_tag(TEXT), with_tag({"type": "integer"}), BACKWARD, None)

    assert changes == [BreakingChange("tag", "cannot prove compatible: $ref changed")]
    assert breaking_changes(with_tag(TEXT), with_tag(TEXT), FULL, None) == []
