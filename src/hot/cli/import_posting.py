"""``Importer``: posts envelopes to ``POST /events``, several humans at once, each human's
lines one after another in file order (a join must not overtake its registration).

Lines are dealt to ``concurrency`` workers by the human they are about; a worker posts
its lines in the order it was dealt them. An answer is settled once: 201 recorded, 200
already recorded, any other 4xx refused (reported, never retried). A server error, 429
or a lost connection is retried with backoff, then stops the import
(``ApiUnavailableError``); 401 or 403 stops it at once.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

import click
import httpx

from hot.cli.api_client import problem_of, refused_token, retry_after, worth_retrying
from hot.cli.import_lines import ImportLine
from hot.cli.import_progress import ProgressMark, StatusLine
from hot_follow.backoff import Backoff

QUEUE_SIZE = 100  # lines dealt to a worker ahead of its posting them
TIMEOUT = httpx.Timeout(30.0, connect=5.0)
Lines = asyncio.Queue[ImportLine | None]  # a worker's lines, in file order; None: no more


class ApiUnavailableError(Exception):
    """The API could not take a line however often it was tried."""


@dataclass
class Tally:
    """What became of the lines of this run."""

    recorded: int = 0
    already_recorded: int = 0
    refused: int = 0

    def __str__(self) -> str:
        already, refused = self.already_recorded, self.refused
        return f"{self.recorded} recorded, {already} already recorded, {refused} refused"


class Importer:
    """Posts lines to the API at ``url``, settling each in ``mark`` and on ``status``."""

    def __init__(
        self,
        url: str,
        token: str,
        mark: ProgressMark,
        status: StatusLine,
        *,
        concurrency: int,
        attempts: int,
    ) -> None:
        self.url, self.token = url.rstrip("/"), token
        self.mark, self.status = mark, status
        self.concurrency, self.attempts = concurrency, attempts
        self.tally = Tally()

    async def run(self, lines: Iterable[ImportLine]) -> None:
        """Post every line; the first error that stops the import is raised as itself."""
        queues = [Lines(QUEUE_SIZE) for _ in range(self.concurrency)]
        headers = {"Authorization": f"Bearer {self.token}"}
        limits = httpx.Limits(max_connections=self.concurrency)
        async with httpx.AsyncClient(
            base_url=self.url, headers=headers, timeout=TIMEOUT, limits=limits
        ) as client:
            try:
                async with asyncio.TaskGroup() as tasks:
                    for queue in queues:
                        tasks.create_task(self._work(client, queue))
                    tasks.create_task(self._deal(lines, queues))
            except ExceptionGroup as group:
                raise group.exceptions[0] from None

    async def _deal(self, lines: Iterable[ImportLine], queues: list[Lines]) -> None:
        for line in lines:
            if line.refusal is not None:
                self._refused(line, f"refused: {line.refusal}")
            elif line.envelope is None:
                self._settled(line)  # blank
            else:
                await queues[zlib.crc32(line.human.encode()) % len(queues)].put(line)
        for queue in queues:
            await queue.put(None)

    async def _work(self, client: httpx.AsyncClient, queue: Lines) -> None:
        while (line := await queue.get()) is not None:
            self._answered(line, await self._post(client, line))

    async def _post(self, client: httpx.AsyncClient, line: ImportLine) -> httpx.Response:
        """The API's answer to the line: a 2xx or a 4xx, after retrying what is worth it."""
        backoff, failure = Backoff(initial=0.5, maximum=8.0), ""
        for attempt in range(1, self.attempts + 1):
            try:
                response = await client.post("/events", json=line.envelope)
            except httpx.TransportError as error:
                failure, wait = f"{type(error).__name__}: {error}", backoff.next()
            else:
                if response.status_code in (401, 403):
                    raise refused_token(response, "write")
                if not worth_retrying(response):
                    return response
                failure = f"{response.status_code} {problem_of(response)}"
                wait = retry_after(response) or backoff.next()
            if attempt < self.attempts:
                await asyncio.sleep(wait)
        raise ApiUnavailableError(
            f"the API at {self.url} could not take line {line.number} "
            f"after {self.attempts} tries ({failure})"
        )

    def _answered(self, line: ImportLine, response: httpx.Response) -> None:
        if response.status_code == 201:
            self.tally.recorded += 1
        elif response.status_code == 200:
            self.tally.already_recorded += 1
        elif 400 <= response.status_code < 500:
            problem = problem_of(response)
            reason = "\n".join([f"{line.name} refused: {problem}", *problem.errors])
            self._refused(line, reason.replace("\n", "\n    "))
            return
        else:
            answer = f"{response.status_code} {problem_of(response)}"
            raise click.ClickException(f"the API answered line {line.number} with {answer}")
        self._settled(line)

    def _refused(self, line: ImportLine, reason: str) -> None:
        self.tally.refused += 1
        self.status.note(f"line {line.number}: {reason}")
        self._settled(line)

    def _settled(self, line: ImportLine) -> None:
        self.mark.done(line.number)
        self.status.advance()
