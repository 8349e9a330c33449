"""The progress line of catch-ups and rebuilds, and the stop flag of long runs."""

from __future__ import annotations

import io
import signal

import pytest

from hot_follow import Progress, stopping
from hot_follow.progress import wanted
from hot_follow.stopping import StopFlag


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_off_a_terminal_each_report_is_a_line_of_position_head_percent_and_rate() -> None:
    out = io.StringIO()
    progress = Progress("attendance", 2000, stream=out, interval=0)

    progress(500, 400)
    progress.finish()

    lines = out.getvalue().splitlines()
    assert lines[0].startswith("attendance: 500 / 2,000 (25.0%)  400 events  ")
    assert lines[0].endswith(" events/s")
    assert len(lines) == 2


def test_on_a_terminal_it_redraws_one_line_and_ends_it() -> None:
    out = Terminal()
    progress = Progress("rebuild", None, stream=out, interval=0)

    progress(10, 10)
    progress(20, 20)
    progress.finish()

    text = out.getvalue()
    assert text.count("\r\x1b[K") == 3
    assert text.endswith("\n")
    assert text.count("\n") == 1
    assert "rebuild: 20  20 events" in text  # no head: no percentage


def test_progress_shows_on_a_terminal_or_when_asked() -> None:
    assert wanted(None, Terminal())
    assert not wanted(None, io.StringIO())
    assert wanted(True, io.StringIO())
    assert not wanted(False, Terminal())


class SignallingClock:
    """A fake ``time`` for ``hot_follow.stopping``: sleeping advances it at once, and the
    sleep that reaches ``signal_at`` raises ``signum`` (handled in the main thread, as a
    real signal in the middle of a wait is), however slow the machine."""

    def __init__(self, signum: int, signal_at: float) -> None:
        self.now = 0.0
        self.signum, self.signal_at = signum, signal_at

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        before, self.now = self.now, self.now + seconds
        if before < self.signal_at <= self.now:
            signal.raise_signal(self.signum)


def test_a_stop_flag_set_by_a_signal_handler_ends_a_wait_of_the_main_thread(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    flag = StopFlag()
    clock = SignallingClock(signal.SIGALRM, 0.2)
    previous = signal.signal(signal.SIGALRM, lambda signum, frame: flag.set())
    try:
        with monkeypatch.context() as patched:
            patched.setattr(stopping, "time", clock)
            started = clock.monotonic()
            assert flag.wait(10)
            assert clock.monotonic() - started < 2  # seen at once, not at the timeout
    finally:
        signal.signal(signal.SIGALRM, previous)
    assert not StopFlag().wait(0.01)
