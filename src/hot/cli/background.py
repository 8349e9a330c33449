"""``Background``: ``hot serve``'s relay and SQL read projector, in a process of their own.

Both are loops of Python over every event of the log (read, decode, encode, write). In
the API's process they hold its interpreter lock between the event loop and the group
committer, and every command waits for it: the projector alone cost the write path
10-15% of its commands/s there, and nothing measurable in a process of its own
(``bench/sql_read_bench.py``). So ``hot serve`` starts them in one child process, with
one worker or several, as ``hot relay`` would run them, on the servers the parent uses.

The child sends its loops' statuses up a pipe every ``STATUS_SECONDS``; the API's
readiness reads the last one received (``relay_status``, ``sql_read_status``). The
child's life is bound to the parent's: it stops when asked (``stop``), and when the
pipe closes because the parent is gone, even killed with SIGKILL, so that its locks go
with it and another instance's loops take over. If the child dies, its statuses say
``stopped`` and readiness fails.
"""

from __future__ import annotations

import contextlib
import dataclasses
import faulthandler
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from dataclasses import replace
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any, cast

from prometheus_client import multiprocess

from hot.cli.runtime import tune_runtime
from hot.infra.bootstrap import bootstrap
from hot.infra.logs import configure_logging
from hot.infra.relay import RelayStatus, build_relay
from hot.infra.relay.leading import LeadingLoop
from hot.infra.settings import Settings
from hot.infra.sql_read import build_projector
from hot.infra.sql_read.projector import ProjectorStatus

log = logging.getLogger(__name__)

STATUS_SECONDS = 0.5  # how often the child reports its loops' statuses
STOP_SECONDS = 10.0  # how long a stop waits for the loops' steps in flight, then kills

RELAY, SQL_READ = "relay", "sql_read"


class Background:
    """The child process running the relay (unless ``HOT_RELAY=off``) and the SQL read
    projector (unless ``HOT_SQL_READ=off``), as ``settings`` say."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.runs_relay = settings.relay_in_serve
        self.runs_sql_read = settings.sql_read
        self._statuses: dict[str, Any] = {
            RELAY: RelayStatus("starting"),
            SQL_READ: ProjectorStatus("starting"),
        }
        self._lock = threading.Lock()
        self._process: BaseProcess | None = None
        self._pipe: Connection | None = None
        self._receiver: threading.Thread | None = None

    @property
    def needed(self) -> bool:
        """Whether there is anything to run (neither loop is off)."""
        return self.runs_relay or self.runs_sql_read

    def start(self, database_url: str, redis_url: str | None) -> Background:
        """Start the child (spawned: a fresh interpreter, no thread of this one's) on the
        servers at these URLs: the parent's own, embedded ones included."""
        settings = replace(self.settings, database_url=database_url, redis_url=redis_url)
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=run_loops,
            args=(settings, self.runs_relay, self.runs_sql_read, theirs),
            name="hot-background",
            daemon=False,
        )
        process.start()
        theirs.close()  # the child's end: once the child is gone, ours reads EOF
        self._process, self._pipe = process, ours
        self._receiver = threading.Thread(
            target=self._receive, name="hot-background-statuses", daemon=True
        )
        self._receiver.start()
        return self

    def relay_status(self) -> RelayStatus:
        """The relay's status as the child last sent it."""
        with self._lock:
            return self._statuses[RELAY]  # type: ignore[no-any-return]

    def sql_read_status(self) -> ProjectorStatus:
        """The projector's status as the child last sent it."""
        with self._lock:
            return self._statuses[SQL_READ]  # type: ignore[no-any-return]

    def stop(self, timeout: float = STOP_SECONDS) -> int | None:
        """Ask the child to stop, wait for it (killed after ``timeout``); its exit code.

        Only the receiving thread waits for the child's end (``_receive``): two threads
        waiting on one process was seen to miss its end, until the timeout.
        """
        process, pipe, receiver = self._process, self._pipe, self._receiver
        if process is None or pipe is None or receiver is None:
            return None
        with contextlib.suppress(OSError):  # gone already
            pipe.send("stop")
        receiver.join(timeout)
        if receiver.is_alive():
            log.warning("background: still running after %.0f s; its threads, then kill", timeout)
            with contextlib.suppress(ProcessLookupError):  # its threads' stacks, on its stderr
                os.kill(cast(int, process.pid), signal.SIGUSR1)
                time.sleep(0.5)
            process.kill()
            receiver.join()
        pipe.close()
        return process.exitcode

    def _receive(self) -> None:
        assert self._pipe is not None
        assert self._process is not None
        while True:
            try:
                statuses = self._pipe.recv()
            except (EOFError, OSError):
                break
            with self._lock:
                self._statuses.update(statuses)
        self._process.join()  # the pipe closes as the child exits
        ended = f"the background process ended (exit code {self._process.exitcode})"
        with self._lock:  # a child that died sent no last status: its loops are stopped
            for name, status in self._statuses.items():
                if status.state != "stopped":
                    error = status.error or ended
                    self._statuses[name] = dataclasses.replace(status, state="stopped", error=error)


def run_loops(settings: Settings, relay: bool, sql_read: bool, parent: Connection) -> None:
    """The child: the loops asked for, until the parent says stop or is gone."""
    configure_logging(logging.INFO, settings.log_format)
    faulthandler.register(signal.SIGUSR1, all_threads=True)  # a stuck stop says where
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the parent, which stops us
    stopping = threading.Event()

    def stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGTERM, stop)
    hot = bootstrap(
        settings, with_redis=settings.redis_url is not None, shows_personal=settings.stream_personal
    )
    loops: dict[str, LeadingLoop[Any]] = {}
    try:
        if relay:
            loops[RELAY] = build_relay(hot)
        if sql_read:
            loops[SQL_READ] = build_projector(hot)
        for loop in loops.values():
            loop.start()
        tune_runtime()
        while not stopping.is_set():
            parent.send({name: loop.status() for name, loop in loops.items()})
            if parent.poll(STATUS_SECONDS):
                parent.recv()  # "stop"; EOFError if the parent is gone
                break
    except (EOFError, OSError):
        log.warning("background: the serving process is gone; stopping")
    finally:
        for loop in loops.values():
            loop.stop()  # the step in flight is finished first
        with contextlib.suppress(OSError):
            parent.send({name: loop.status() for name, loop in loops.items()})
        if hot.metrics is not None and hot.metrics.multiprocess:
            multiprocess.mark_process_dead(os.getpid())  # type: ignore[no-untyped-call]
        hot.close()
    # Everything it holds is closed: end now, without waiting at interpreter exit for a
    # stray thread of a library (a stop was seen to last 30 s, once in a few, there).
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
