"""What validating a team event's payload costs per event, against json.loads of it.

The payload is the seed's standup v2 (the same as ``tests/unit/standup_schemas.py``),
checked as the hot path does: ``PayloadValidator.check`` (the NUL and depth walk, then
the compiled schema's ``is_valid``). Its parts are shown beside it. The baseline, in the
same run, is ``json.loads`` of the payload's JSON text: the least any event costs.
Each figure is the best of a few repeats (the machine is shared).

    uv run python bench/validation_bench.py [--events N]
"""

from __future__ import annotations

import argparse
import json
import timeit
from collections.abc import Callable

from hot.application.payload_schemas import PayloadValidator, checked_schema, compiled_validator
from hot.application.payload_shapes import checked_payload_shape
from hot.application.upcasts import parse_upcast

_TEXT = {"type": "string"}
_STRINGS = {"type": "array", "items": _TEXT}
STANDUP_V2 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "ecode": {"type": "string", "x-personal": True},
        "project": _TEXT,
        "standup": _TEXT,
        "date": {"type": "string", "format": "date"},
        "source": _TEXT,
        "issues": _STRINGS,
        "notes": _STRINGS,
        "isDelivered": {"type": "boolean"},
    },
    "required": ["ecode", "project", "standup", "date", "issues", "notes", "isDelivered"],
}
STANDUP_V1_PAYLOAD = {
    "ecode": "E042",
    "project": "psychohistory",
    "standup": "Checked the Prime Radiant's equations against the Seldon Plan.",
    "date": "2026-03-02",
}
STANDUP_V2_PAYLOAD = {
    **STANDUP_V1_PAYLOAD,
    "source": "slack",
    "issues": ["HOT-16", "HOT-18"],
    "notes": ["pairing with Gaal after lunch"],
    "isDelivered": True,
}
STANDUP_V1_TO_V2 = {"defaults": {"issues": [], "notes": [], "isDelivered": False}}


def microseconds_per_call(call: Callable[[], object], events: int) -> float:
    """The best of five runs of ``events`` calls, in microseconds per call."""
    return min(timeit.repeat(call, number=events, repeat=5)) / events * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    events = parser.parse_args().events
    validator = PayloadValidator(checked_schema(STANDUP_V2))
    compiled = compiled_validator(STANDUP_V2)  # what the validator runs after the walk
    upcast = parse_upcast(STANDUP_V1_TO_V2)
    text = json.dumps(STANDUP_V2_PAYLOAD)
    validator.check(STANDUP_V2_PAYLOAD)  # valid, so the timed calls take the fast path

    baseline = microseconds_per_call(lambda: json.loads(text), events)
    figures = {
        "validation (check)": microseconds_per_call(
            lambda: validator.check(STANDUP_V2_PAYLOAD), events
        ),
        "  shape walk alone": microseconds_per_call(
            lambda: checked_payload_shape(STANDUP_V2_PAYLOAD), events
        ),
        "  is_valid alone": microseconds_per_call(
            lambda: compiled.is_valid(STANDUP_V2_PAYLOAD), events
        ),
        "upcast v1 -> v2": microseconds_per_call(lambda: upcast.apply(STANDUP_V1_PAYLOAD), events),
    }
    print(f"standup v2 payload, {len(text)} bytes of JSON, {events} events per run")
    print(f"{'json.loads (baseline)':24} {baseline:6.2f} us/event")
    for name, cost in figures.items():
        print(f"{name:24} {cost:6.2f} us/event   {cost / baseline:5.2f}x json.loads")
    print(f"validation / json.loads = {figures['validation (check)'] / baseline:.2f}x")


if __name__ == "__main__":
    main()
