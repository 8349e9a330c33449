"""``hot import FILE``: a JSON Lines file of envelopes, posted to the API's ``POST /events``.

    hot import seed.jsonl --token hot_...        every line, 8 humans at a time
    hot import seed.jsonl                        again: resumes where it stopped

Each line is ``{"id", "name", "version", "payload"}``. The API records an envelope once
by its id, so importing a file twice records nothing new. While an import is unfinished
``FILE.progress`` says from which line to resume; a finished import removes it.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path

import click

from hot.cli.api_client import api_options
from hot.cli.import_lines import count_lines, read_lines
from hot.cli.import_posting import ApiUnavailableError, Importer
from hot.cli.import_progress import ProgressMark, StatusLine


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@api_options("write")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=8,
    show_default=True,
    help="Humans posted at once (each human's lines one at a time, in file order).",
)
@click.option("--from-line", type=click.IntRange(min=1), help="Start at this line.")
@click.option(
    "--progress",
    "progress_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The progress file (default: FILE.progress).",
)
@click.option("--restart", is_flag=True, help="Ignore the progress file: start at line 1.")
@click.option(
    "--progress-bar/--no-progress-bar",
    default=None,
    help="A status line on stderr (default: when stderr is a terminal).",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=5,
    show_default=True,
    help="Retries of a line the API could not take (5xx, 429, no connection).",
)
def import_(
    file: Path,
    url: str,
    token: str,
    concurrency: int,
    from_line: int | None,
    progress_path: Path | None,
    restart: bool,
    progress_bar: bool | None,
    retries: int,
) -> int:
    """Post a JSON Lines file of envelopes to the API, each recorded once (resumable).

    Each refused line is reported with its reason and the others go on; the exit status
    is 1 if any line was refused. An unfinished import (Ctrl-C, the API unreachable after
    --retries) resumes from where it stopped when run again, as FILE.progress says.
    """
    progress_path = progress_path or file.with_name(file.name + ".progress")
    start = _start_line(progress_path, from_line, restart)
    mark = ProgressMark(progress_path, start)
    shown = sys.stderr.isatty() if progress_bar is None else progress_bar
    status = StatusLine(start - 1, count_lines(file), shown=shown)
    importer = Importer(url, token, mark, status, concurrency=concurrency, attempts=retries + 1)
    try:
        asyncio.run(_stopped_by_sigterm(importer.run(read_lines(file, start))))
    except BaseException as error:
        raise _stopped(error, mark) from None
    else:
        mark.finish()
    finally:
        status.close()
        click.echo(importer.tally)
    return 1 if importer.tally.refused else 0


def _start_line(progress_path: Path, from_line: int | None, restart: bool) -> int:
    """The line to start at: ``--from-line``, else where the progress file says, else 1."""
    if from_line is not None:
        return from_line
    resume = None if restart else ProgressMark.read(progress_path)
    if resume is None:
        return 1
    click.echo(
        f"resuming from line {resume}, as {progress_path} says (--restart starts again)",
        err=True,
    )
    return resume


async def _stopped_by_sigterm(work: Coroutine[None, None, None]) -> None:
    """``work``, cancelled by SIGTERM as Ctrl-C cancels it (cleanly, between two awaits)."""
    loop, task = asyncio.get_running_loop(), asyncio.current_task()
    assert task is not None
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        await work
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _stopped(error: BaseException, mark: ProgressMark) -> BaseException:
    """The error to stop with, once the progress is kept: said with the line to resume
    from when it is worth resuming."""
    mark.keep()
    resume = f"run the same command again to resume from line {mark.next_line}"
    if isinstance(error, KeyboardInterrupt | asyncio.CancelledError):
        return click.ClickException(f"interrupted; {resume}")
    if isinstance(error, ApiUnavailableError):
        return click.ClickException(f"{error}; stopped: {resume}")
    return error
