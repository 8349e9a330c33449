"""A PostgreSQL server of a test's own, which the test can kill -9 and start again.

Built from the binaries in the ``pgserver`` wheel (a project dependency), so it needs
nothing installed on the machine. As root, it runs as the ``pgserver`` user, as
``pgserver`` does (PostgreSQL refuses to run as root).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import signal
import subprocess
import time
from pathlib import Path

import psycopg
from pgserver._commands import POSTGRES_BIN_PATH

SYSTEM_USER = "pgserver"


class KillablePostgres:
    """A real PostgreSQL on a Unix socket in ``data_dir``: ``kill()`` is a SIGKILL of the
    postmaster, ``start()`` brings it back on the same data, as after a crash."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self._user = SYSTEM_USER if os.geteuid() == 0 else None
        if self._user is not None:
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            ensure_user_exists(self._user)
            entry = pwd.getpwnam(self._user)
            data_dir.mkdir(parents=True, exist_ok=True)
            ensure_prefix_permissions(data_dir)  # the user must reach it through /tmp/...
            os.chown(data_dir, entry.pw_uid, entry.pw_gid)
        self._run("initdb", "-D", str(data_dir), "--auth=trust", "-U", "postgres", "-E", "utf8")

    @property
    def url(self) -> str:
        return f"postgresql://postgres@/postgres?host={self.data_dir}"

    def start(self, seconds: float = 30) -> None:
        """Start it and wait until it answers; retried while a killed one's backends
        still hold its shared memory."""
        give_up = time.monotonic() + seconds
        while True:
            try:
                self._pg_ctl("start", "-w", "-t", "20", "-o", f"-h '' -k {self.data_dir}")
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

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate", "-w")

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
            raise subprocess.CalledProcessError(
                done.returncode, done.args, done.stdout, done.stderr
            )
