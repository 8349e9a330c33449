"""HOT_STREAM_PERSONAL and HOT_STREAM_WRITE_THROUGH: how the streams are fed."""

from __future__ import annotations

import pytest

from hot.infra.settings import Settings, SettingsError


def test_personal_fields_are_masked_in_the_streams_by_default() -> None:
    assert Settings.from_env({}).stream_personal is False


@pytest.mark.parametrize(("raw", "expected"), [("on", True), ("TRUE", True), ("off", False)])
def test_hot_stream_personal_reads_on_or_off(raw: str, expected: bool) -> None:
    assert Settings.from_env({"HOT_STREAM_PERSONAL": raw}).stream_personal is expected


def test_anything_else_is_refused_by_name() -> None:
    with pytest.raises(SettingsError, match="HOT_STREAM_PERSONAL must be on or off"):
        Settings.from_env({"HOT_STREAM_PERSONAL": "names"})


def test_the_write_through_is_on_unless_switched_off() -> None:
    assert Settings.from_env({}).write_through is True
    assert Settings.from_env({"HOT_STREAM_WRITE_THROUGH": "off"}).write_through is False
    with pytest.raises(SettingsError, match="HOT_STREAM_WRITE_THROUGH must be on or off"):
        Settings.from_env({"HOT_STREAM_WRITE_THROUGH": "later"})
