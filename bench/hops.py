"""Counts the HoT functions one ``POST /humans/{id}/attend`` runs through: the path's hops.

The API is built as ``hot serve`` builds it (write-through on, no relay in the process,
so that only the command's own path is counted), a human is registered, joined and
read once (so the process knows them, as in steady state), one attend warms the path,
then one more attend is traced in every thread that works for it (the event loop's,
worker threads, the group committer's; not the threads that serve the process, such as
the commit listener, which follows every process's commits). Printed: how many calls
of named functions defined under ``src/hot`` it made (comprehensions and lambdas are
no hop of their own; a coroutine counts again each time it resumes), how many
distinct such functions, and the distinct ones in the order first called.

    uv run python bench/hops.py

Uses HOT_BENCH_DATABASE_URL and HOT_BENCH_REDIS_URL (default: the local servers);
creates and drops a database of its own.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import uuid
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

SERVER_URL = os.environ.get(
    "HOT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("HOT_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
SOURCE = str(Path(__file__).resolve().parent.parent / "src" / "hot")

calls: Counter[str] = Counter()
order: list[str] = []
threads_of: dict[str, set[str]] = {}
tracing = False
# Threads that serve the process rather than the request: the commit listener follows
# the log for every process's commits, whoever made them.
NOT_THE_REQUEST = ("hot-commit-listener", "hot-relay", "hot-personal-keys")


def profile(frame: FrameType, event: str, arg: Any) -> None:
    if not tracing or event != "call":
        return
    code = frame.f_code
    if not code.co_filename.startswith(SOURCE) or code.co_name.startswith("<"):
        return  # not HoT's, or a comprehension or lambda: no hop of its own
    thread = threading.current_thread().name
    if thread.startswith(NOT_THE_REQUEST):
        return
    where = f"{Path(code.co_filename).relative_to(SOURCE)}:{code.co_qualname}"
    if where not in calls:
        order.append(where)
    calls[where] += 1
    threads_of.setdefault(where, set()).add(thread.split("_")[0])


def main() -> None:
    global tracing
    logging.getLogger("httpx").setLevel(logging.WARNING)
    threading.setprofile(profile)  # every thread started from now on
    sys.setprofile(profile)

    from litestar.testing import TestClient

    from hot.cli.serve import build_api
    from hot.infra.api_keys import ApiKeyStore
    from hot.infra.bootstrap import bootstrap
    from hot.infra.database import create_database, drop_database
    from hot.infra.settings import Settings

    name = f"hot_hops_{uuid.uuid4().hex[:8]}"
    database_url = create_database(SERVER_URL, name)
    prefix = f"hot-hops-{uuid.uuid4().hex[:8]}"
    settings = Settings.from_env(
        {
            "HOT_DATABASE_URL": database_url,
            "HOT_REDIS_URL": REDIS_URL,
            "HOT_REDIS_PREFIX": prefix,
            "HOT_RELAY": "off",
        }
    )
    hot = bootstrap(settings, serves_commands=True)  # as hot serve builds it
    try:
        with ApiKeyStore(database_url) as api_keys:
            token = api_keys.create("hops", ["read", "write"])
        api = build_api(hot, close_on_shutdown=False)
        headers = {"Authorization": f"Bearer {token}"}
        with TestClient(api) as client:
            body = {"name": "Hop Counter", "email": "hops@trantor.example", "kind": "employee"}
            human = client.post("/humans", json=body, headers=headers).json()["id"]
            joined = {"on": "2020-01-01", "role": "counter"}
            assert client.post(f"/humans/{human}/join", json=joined, headers=headers).is_success
            assert client.get(f"/humans/{human}", headers=headers).is_success
            warm = {"on": "2020-01-02"}
            assert client.post(f"/humans/{human}/attend", json=warm, headers=headers).is_success
            tracing = True
            answer = client.post(
                f"/humans/{human}/attend", json={"on": "2020-01-03"}, headers=headers
            )
            tracing = False
            assert answer.is_success, answer.text
    finally:
        sys.setprofile(None)
        threading.setprofile(None)  # type: ignore[arg-type]
        hot.close()
        drop_database(SERVER_URL, name)
    print("POST /humans/{id}/attend, a known human:")
    print(f"  calls of HoT functions:   {sum(calls.values())}")
    print(f"  distinct HoT functions:   {len(calls)}")
    for where in order:
        print(f"    {calls[where]:4}  {where}  [{', '.join(sorted(threads_of[where]))}]")


if __name__ == "__main__":
    main()
