"""``HOT_STREAM_RETENTION`` and the retention window it gives the relay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from hot.infra.relay.publisher import Trim
from hot.infra.relay.retention import RetentionWindow
from hot.infra.relay.source import EventLog
from hot.infra.settings import DEFAULT_STREAM_RETENTION, Settings, SettingsError, StreamRetention


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("", DEFAULT_STREAM_RETENTION),
        ("100000", StreamRetention(count=100_000)),
        ("1", StreamRetention(count=1)),
        ("7d", StreamRetention(age=timedelta(days=7))),
        ("12h", StreamRetention(age=timedelta(hours=12))),
        ("30m", StreamRetention(age=timedelta(minutes=30))),
        ("90s", StreamRetention(age=timedelta(seconds=90))),
    ],
)
def test_retention_is_a_count_or_an_age(raw: str, expected: StreamRetention) -> None:
    assert Settings.from_env({"HOT_STREAM_RETENTION": raw}).stream_retention == expected


@pytest.mark.parametrize("raw", ["0", "0d", "-5", "7 days", "1w", "1.5h", "lots"])
def test_a_retention_hot_cannot_use_is_refused_by_name(raw: str) -> None:
    with pytest.raises(SettingsError, match="HOT_STREAM_RETENTION"):
        Settings.from_env({"HOT_STREAM_RETENTION": raw})


class FakeLog:
    """Positions 1..100, one event a minute from ``START``: enough for the window's logic."""

    START = datetime(2026, 1, 1, tzinfo=UTC)

    def __init__(self) -> None:
        self.searches = 0

    def newest(self, *, skip: int = 0, **_: Any) -> int:
        return max(100 - skip, 0)

    def first_since(self, instant: datetime) -> int:
        self.searches += 1
        minutes = (instant - self.START) // timedelta(minutes=1)
        return min(max(minutes + 1, 1), 101)


def _window(retention: StreamRetention, log: FakeLog, now: list[float]) -> RetentionWindow:
    return RetentionWindow(retention, cast(EventLog, log), clock=lambda: now[0])


def test_a_count_keeps_the_newest_events() -> None:
    window = _window(StreamRetention(count=30), FakeLog(), [0.0])

    assert window.floor() == 70
    assert window.trim() == Trim("maxlen", 30)
    assert _window(StreamRetention(count=500), FakeLog(), [0.0]).floor() == 0


def test_an_age_keeps_what_was_recorded_since() -> None:
    log = FakeLog()
    now = [(FakeLog.START + timedelta(minutes=90)).timestamp()]
    window = _window(StreamRetention(age=timedelta(minutes=30)), log, now)

    assert window.floor() == 60
    assert window.trim() == Trim("minid", 61)


def test_an_age_window_is_searched_again_only_now_and_then() -> None:
    log = FakeLog()
    now = [(FakeLog.START + timedelta(minutes=50)).timestamp()]
    window = _window(StreamRetention(age=timedelta(minutes=10)), log, now)
    window.trim()
    now[0] += 5
    assert window.trim() == Trim("minid", 41)
    now[0] += 60
    assert window.trim() == Trim("minid", 42)
    assert log.searches == 2


def test_a_retention_is_either_a_count_or_an_age() -> None:
    with pytest.raises(ValueError, match="either"):
        RetentionWindow(StreamRetention(), cast(EventLog, FakeLog()))
