"""The attendance projection as text a person reads: a month, and where the projection stands."""

from __future__ import annotations

from datetime import UTC, datetime

from hot_attendance.report import MonthReport
from hot_follow import ProjectionStatus, Stuck

SKIP_COMMAND = "hot-attendance --skip-position {position} --reason ..."


def render_month(found: MonthReport) -> str:
    """The report as a table a person reads."""
    title = f"Attendance in {found.month:%Y-%m}"
    lines = [title, "=" * len(title), ""]
    if not found.days:
        return "\n".join([*lines, "Nobody attended this month."])
    lines.append(f"{'Day':<14}{'Attended':>9}{'Members':>9}{'Rate':>7}")
    for row in found.days:
        rate = f"{100 * row.attended / row.members:.0f}%" if row.members else "-"
        lines.append(f"{row.day:%Y-%m-%d %a}{row.attended:>9}{row.members:>9}{rate:>7}")
    total = sum(r.attended for r in found.days)
    lines += ["", f"{len(found.days)} days, {total} attendances.", ""]
    width = max(len("Human"), *(len(h.name) for h in found.humans))
    lines.append(f"{'Human':<{width}}  {'Days':>4}")
    lines += [f"{h.name:<{width}}  {h.days:>4}" for h in found.humans]
    return "\n".join(lines)


def stuck_warning(stuck: Stuck) -> str:
    """One line: where attendance is stuck, since when, why, and how to skip the event."""
    return (
        f"attendance is stuck at position {stuck.position} since {_moment(stuck.since)}: "
        f"{stuck.error}; `{SKIP_COMMAND.format(position=stuck.position)}` skips it"
    )


def render_status(found: ProjectionStatus) -> str:
    """The status as lines a person reads."""
    stuck, lines = found.stuck, [f"attendance is at position {found.position}"]
    if stuck is None:
        lines[0] += ", not stuck"
    else:
        lines += [
            f"stuck at position {stuck.position} ({stuck.event_name}) since "
            f"{_moment(stuck.since)}: {stuck.error}",
            f"`{SKIP_COMMAND.format(position=stuck.position)}` skips it",
        ]
    lines.append("skipped positions:" if found.skips else "no position skipped")
    lines += [
        f"  {skip.position}: by {skip.skipped_by} at {_moment(skip.skipped_at)}: {skip.reason}"
        for skip in found.skips
    ]
    return "\n".join(lines)


def _moment(moment: datetime) -> str:
    return f"{moment.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC"
