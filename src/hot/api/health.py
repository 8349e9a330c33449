"""Liveness and readiness: is the process up, and can it reach what it depends on.

Readiness checks PostgreSQL, Redis when one is configured, the relay when a
``relay_status`` callable is given and the SQL read projector (``sql_read``: its
position in the log and its lag) when a ``sql_read_status`` is, and the replicas
(``replica_status``: each one's state and lag) when queries read from some; a replica
down never fails readiness, since reads go to the primary meanwhile. Each check is bounded
in time, and any failed check makes the answer 503 (with the checks in the body, to
tell which). Each status callable returns a mapping or a dataclass (such as
``hot.infra.relay.RelayStatus``), reported as it is. It is ok if it says ``ok``, or
else if its ``state`` is not ``retrying`` or ``stopped``; raising counts as not ok.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any

import anyio
import anyio.to_thread
from litestar import Response, get
from litestar.di import NamedDependency
from litestar.openapi import ResponseSpec

from hot.api.auth import public
from hot.api.models import CheckOut, HealthOut
from hot.application import HumansApplication

CHECK_TIMEOUT = 3.0
RETRY_AFTER = "5"

RelayStatus = Callable[[], Any]
RELAY_DOWN = frozenset({"retrying", "stopped"})


@dataclass(frozen=True)
class Readiness:
    """The dependencies readiness checks: ``ping_redis`` is the Redis client's ``ping``
    (a plain client's or a cluster's: a callable, which Litestar's signature model takes
    where it refuses a union of the two clients)."""

    app: HumansApplication
    ping_redis: Callable[[], object] | None = None
    relay_status: RelayStatus | None = None
    sql_read_status: RelayStatus | None = None
    replica_status: RelayStatus | None = None

    async def checks(self) -> dict[str, CheckOut]:
        checks = {"postgres": await _bounded(self._postgres)}
        if self.ping_redis is not None:
            checks["redis"] = await _bounded(_in_thread(self._redis))
        if self.relay_status is not None:
            checks["relay"] = await _bounded(_in_thread(partial(_running, self.relay_status)))
        if self.sql_read_status is not None:
            checks["sql_read"] = await _bounded(_in_thread(partial(_running, self.sql_read_status)))
        if self.replica_status is not None:
            checks["replicas"] = await _bounded(_in_thread(partial(_running, self.replica_status)))
        return checks

    async def _postgres(self) -> CheckOut:
        return CheckOut(ok=True, info={"head": await self.app.head()})

    def _redis(self) -> CheckOut:
        assert self.ping_redis is not None
        self.ping_redis()
        return CheckOut(ok=True)


def _running(status_of: RelayStatus) -> CheckOut:
    """The check of a running part (the relay, the SQL read projector) by its status."""
    status = status_of()
    info = dict(status) if isinstance(status, Mapping) else dataclasses.asdict(status)
    ok = info.pop("ok", info.get("state") not in RELAY_DOWN)
    return CheckOut(ok=bool(ok), info=json.loads(json.dumps(info, default=_jsonable)))


def _jsonable(value: object) -> str:
    """A value JSON has no type for: an instant in RFC 3339 (``T``, with offset)."""
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


def _in_thread(check: Callable[[], CheckOut]) -> Callable[[], Awaitable[CheckOut]]:
    """A blocking check, run in a thread (abandoned if it outlives its time)."""
    return lambda: anyio.to_thread.run_sync(check, abandon_on_cancel=True)


async def _bounded(check: Callable[[], Awaitable[CheckOut]]) -> CheckOut:
    """Run a check; a failure or a timeout is a failed check."""
    try:
        with anyio.fail_after(CHECK_TIMEOUT):
            return await check()
    except TimeoutError:
        return CheckOut(ok=False, detail=f"no answer within {CHECK_TIMEOUT} s")
    except Exception as error:  # a health check reports every failure, it never raises
        return CheckOut(ok=False, detail=f"{type(error).__name__}: {error}")


@get("/health/live", tags=["health"], **public())
async def live() -> HealthOut:
    """The process answers."""
    return HealthOut(status="live")


@get(
    "/health/ready",
    tags=["health"],
    responses={
        503: ResponseSpec(HealthOut, description="A dependency is down.", generate_examples=False)
    },
    **public(),
)
async def ready(readiness: NamedDependency[Readiness]) -> Response[HealthOut]:
    """PostgreSQL (and Redis, the relay, the SQL read projector where configured) answer:
    200, else 503."""
    checks = await readiness.checks()
    if all(c.ok for c in checks.values()):
        return Response(HealthOut(status="ready", checks=checks))
    return Response(
        HealthOut(status="unavailable", checks=checks),
        status_code=503,
        headers={"Retry-After": RETRY_AFTER},
    )
