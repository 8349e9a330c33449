"""Real processes a test kills with SIGKILL, starts again and waits on.

``KillableProcess`` is any command (a ``hot`` command: ``HotProcess``, ``RelayProcess``;
a Python module); a test makes them through the ``processes`` fixture (``Processes``),
which kills whatever still runs when the test ends. ``KillablePostgres`` is a
PostgreSQL server of the test's own (the ``killable_postgres`` fixture).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self, TypeVar

import psycopg
from pgserver._commands import POSTGRES_BIN_PATH

from hot.infra.relay.leader import lock_holder
from tests.waiting import wait_until

ROOT = Path(__file__).resolve().parents[1]  # the project: where ``python -m tests...`` runs


class KillableProcess:
    """``command`` as a real subprocess, started (again) by ``start``; everything it
    prints, over all its starts, is kept in a file for the test to read."""

    def __init__(
        self, command: list[str], env: Mapping[str, str] | None = None, cwd: Path = ROOT
    ) -> None:
        self.command, self.env, self.cwd = command, env, cwd
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0
        # Appending: what the process writes never lands where a reader of the file is.
        self._log = tempfile.NamedTemporaryFile(prefix="hot-test-", suffix=".log", mode="ab")  # noqa: SIM115  (closed by close)
        self._started_at = 0  # where the latest start's output begins in the file

    def start(self) -> Self:
        self._started_at = Path(self._log.name).stat().st_size
        self.process = subprocess.Popen(
            self.command, env=self.env, cwd=self.cwd, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.starts += 1
        return self

    def output(self, *, latest: bool = False) -> str:
        """What it printed (only since its latest start, if ``latest``)."""
        text = Path(self._log.name).read_bytes()
        return text[self._started_at if latest else 0 :].decode(errors="replace")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def wait_for_output(self, text: str, timeout: float, what: str) -> None:
        """Wait until it has printed ``text`` since its latest start; fail if it exited."""
        wait_until(lambda: text in self.output(latest=True) or not self.running(), timeout, what)
        assert self.running(), f"{self.command} exited:\n{self.output(latest=True)}"

    def signal(self, signum: int, timeout: float = 15) -> int:
        """Send ``signum`` and wait for the process to end; its return code."""
        assert self.process is not None
        self.process.send_signal(signum)
        return self.process.wait(timeout)

    def kill(self) -> int:
        """SIGKILL, and wait until it is gone: -9."""
        return self.signal(signal.SIGKILL, 10)

    def terminate(self, timeout: float = 10) -> int:
        """SIGTERM, and wait until it has stopped; its return code (0: cleanly)."""
        return self.signal(signal.SIGTERM, timeout)

    def close(self) -> None:
        """Kill it if it still runs; close its output file."""
        if self.running():
            self.kill()
        self._log.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class HotProcess(KillableProcess):
    """A ``hot`` command (``args``) on the test's database, Redis and prefix."""

    def __init__(
        self, args: list[str], database_url: str, redis_url: str, prefix: str, **env: str
    ) -> None:
        hot = Path(sys.executable).parent / "hot"
        super().__init__(
            [str(hot), *args],
            {
                **os.environ,
                "HOT_DATABASE_URL": database_url,
                "HOT_REDIS_URL": redis_url,
                "HOT_REDIS_PREFIX": prefix,
                **env,
            },
        )
        self.database_url, self.prefix = database_url, prefix


class RelayProcess(HotProcess):
    """``hot relay`` on the test's database, Redis and prefix."""

    def __init__(self, database_url: str, redis_url: str, prefix: str, **env: str) -> None:
        super().__init__(["relay"], database_url, redis_url, prefix, **env)

    def wait_active(self, timeout: float = 20) -> int:
        """Wait until some relay for this prefix holds the lock; its backend pid."""
        holder: list[int] = []

        def held() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"hot relay exited: {self.process.returncode}")
            pid = lock_holder(self.database_url, self.prefix)
            holder[:] = [pid] if pid else []
            return bool(holder)

        wait_until(held, timeout, "a relay holds the lock")
        return holder[0]


P = TypeVar("P", bound=KillableProcess)


class Processes:
    """The real processes of one test, on its database, Redis and key prefix; ``close``
    kills those still running (the ``processes`` fixture closes it after the test)."""

    def __init__(self, database_url: str, redis_url: str, prefix: str) -> None:
        self.database_url, self.redis_url, self.prefix = database_url, redis_url, prefix
        self._made: list[KillableProcess] = []

    def command(self, command: list[str], **env: str) -> KillableProcess:
        """Any command, run from the project's root (``python -m tests...``), with more
        environment variables in ``env``."""
        return self._keep(KillableProcess(command, {**os.environ, **env} if env else None))

    def hot(self, args: list[str], **env: str) -> HotProcess:
        """``hot`` with ``args``, with more settings in ``env`` (they win)."""
        return self._keep(HotProcess(args, self.database_url, self.redis_url, self.prefix, **env))

    def relay(self, **env: str) -> RelayProcess:
        """``hot relay``, with more settings in ``env``."""
        return self._keep(RelayProcess(self.database_url, self.redis_url, self.prefix, **env))

    def close(self) -> None:
        for process in reversed(self._made):
            process.close()

    def _keep(self, process: P) -> P:
        self._made.append(process)
        return process


SYSTEM_USER = "pgserver"


class KillablePostgres:
    """A real PostgreSQL on a Unix socket in ``data_dir``: ``kill()`` is a SIGKILL of the
    postmaster, ``start()`` brings it back on the same data, as after a crash.

    Built from the binaries in the ``pgserver`` wheel (a project dependency), so it
    needs nothing installed on the machine. As root, it runs as the ``pgserver`` user,
    as ``pgserver`` does (PostgreSQL refuses to run as root).
    """

    def __init__(self, data_dir: Path, *, initialise: bool = True) -> None:
        self.data_dir = data_dir
        self._user = SYSTEM_USER if os.geteuid() == 0 else None
        if self._user is not None:
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(self._user)
            entry = pwd.getpwnam(self._user)
            data_dir.mkdir(parents=True, exist_ok=True)
            ensure_prefix_permissions(data_dir)  # the user must reach it through /tmp/...
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
            data_dir.chmod(0o700)
        if initialise:
            self._run("initdb", "-D", str(data_dir), "--auth=trust", "-U", "postgres", "-E", "utf8")

    @classmethod
    def replica_of(cls, primary: KillablePostgres, data_dir: Path) -> KillablePostgres:
        """A streaming replica of ``primary`` (running) in ``data_dir``: its base backup
        (``pg_basebackup -R``: it starts as a standby streaming from ``primary``), not
        started. Both listen on their own folder's socket only, so no port is shared."""
        replica = cls(data_dir, initialise=False)
        replica._run(
            "pg_basebackup", "-R", "-X", "stream", "-c", "fast", "-D", str(data_dir),
            "-h", str(primary.data_dir), "-U", "postgres",
        )  # fmt: skip
        # The primary's socket lives in its folder: the backup took its lock file along.
        for lock in data_dir.glob(".s.PGSQL.*.lock"):
            lock.unlink()
        return replica

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.data_dir}"

    def start(self, seconds: float = 30) -> None:
        """Start it and wait until it answers; retried while a killed one's backends
        still hold its shared memory."""
        give_up = time.monotonic() + seconds
        while True:
            try:
                self._pg_ctl("start", "-w", "-t", "20", "-o", self._options())
                return
            except subprocess.CalledProcessError:
                if time.monotonic() > give_up:
                    raise
                time.sleep(0.5)

    def kill(self) -> None:
        """SIGKILL the postmaster and wait until it and every backend are gone."""
        pid = self.pid()
        os.kill(pid, signal.SIGKILL)
        give_up = time.monotonic() + 30
        while self._answers() and time.monotonic() < give_up:
            time.sleep(0.1)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)

    def restart(self) -> None:
        """A clean restart (``pg_ctl restart -m fast``: every session ended, then back):
        returns once it accepts connections again."""
        self._pg_ctl("restart", "-m", "fast", "-w", "-t", "30", "-o", self._options())

    def stop_cleanly(self) -> None:
        """``pg_ctl stop -m fast``: sessions ended, the data written out; ``start`` again."""
        self._pg_ctl("stop", "-m", "fast", "-w")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate", "-w")

    def _options(self) -> str:
        """The server's options: its socket in ``data_dir``, no TCP."""
        return f"-h '' -k {self.data_dir}"

    def pid(self) -> int:
        return int((self.data_dir / "postmaster.pid").read_text().split()[0])

    def _answers(self) -> bool:
        try:
            with psycopg.connect(self.url, connect_timeout=1):
                return True
        except psycopg.OperationalError:
            return False

    def _pg_ctl(self, *args: str) -> None:
        log = str(self.data_dir / "server.log")
        self._run("pg_ctl", "-D", str(self.data_dir), "-l", log, *args)

    def _run(self, program: str, *args: str) -> None:
        done = subprocess.run(
            [str(POSTGRES_BIN_PATH / program), *args],
            user=self._user,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if done.returncode != 0:
            error = subprocess.CalledProcessError(
                done.returncode, done.args, done.stdout, done.stderr
            )
            error.add_note(f"stdout: {done.stdout}\nstderr: {done.stderr}")
            raise error
