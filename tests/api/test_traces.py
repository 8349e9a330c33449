"""OpenTelemetry traces, in process, with the SDK's own provider and in-memory exporter: a
command's spans from the HTTP request through its commit to the write-through's XADD,
one transaction's span shared by the commands it carries, and traces off by default."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
import redis
from litestar import Litestar
from litestar.testing import TestClient
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from hot.api import create_app
from hot.application import HumansApplication
from hot.domain import HumanKind
from hot.infra.api_keys import ApiKeyStore
from hot.infra.bootstrap import write_through
from hot.infra.tracing import Tracing, TracingSettingError, tracing_from_env
from tests.api.conftest import Humans, bearer
from tests.blocking import run
from tests.integration.relay_fixtures import public_log, relay_until_caught_up, write_humans
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ATTEND = "POST /humans/{human_id}/attend"


@pytest.fixture
def exported() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracing(exported: InMemorySpanExporter) -> Iterator[Tracing]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    tracing = Tracing(provider)
    yield tracing
    tracing.close()


@pytest.fixture
def traced_app(
    app: HumansApplication, tracing: Tracing, redis_server_url: str, redis_prefix: str
) -> Iterator[HumansApplication]:
    """``app`` traced, and writing through to the streams (each commit a hit: no other
    writer, so the streams always stand where the log does)."""
    app.trace_with(tracing.commands)
    stop = write_through(
        app, redis_server_url, prefix=redis_prefix, personal=False, tracing=tracing
    )
    yield app
    stop()


@pytest.fixture
def client(
    traced_app: HumansApplication, tracing: Tracing, database_url: str
) -> Iterator[TestClient[Litestar]]:
    with ApiKeyStore(database_url) as api_keys:
        token = api_keys.create(f"admin-{uuid.uuid4().hex[:6]}", ["admin"])
        with TestClient(create_app(traced_app, api_keys, tracing=tracing)) as client:
            client.headers.update(bearer(token))
            yield client


def trace_of(exported: InMemorySpanExporter, request: str, spans: int) -> list[ReadableSpan]:
    """The one trace whose root is a server span named ``request``, once ``spans`` of its
    spans ended (the committer's end in its thread, as the answer goes out)."""

    def trace() -> list[ReadableSpan]:
        ended = exported.get_finished_spans()
        roots = [s for s in ended if s.name == request]
        assert len(roots) <= 1, roots
        return [s for s in ended for r in roots if s.context.trace_id == r.context.trace_id]

    wait_until(lambda: len(trace()) >= spans, 10, f"{spans} spans of {request}")
    return trace()


def named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    (span,) = [s for s in spans if s.name == name]
    return span


def parent_of(span: ReadableSpan) -> int | None:
    return span.parent.span_id if span.parent is not None else None


def test_an_attend_is_one_trace_from_its_request_through_its_commit_to_its_xadd(
    client: TestClient[Litestar], exported: InMemorySpanExporter
) -> None:
    human = Humans(client).member()
    exported.clear()

    answer = client.post(f"/humans/{human}/attend", json={"on": "2024-05-06"})
    assert answer.status_code == 200, answer.text

    spans = trace_of(exported, ATTEND, 4)
    assert sorted(s.name for s in spans) == sorted(
        [ATTEND, "command attend", "group commit", "write-through XADD"]
    )
    http, command = named(spans, ATTEND), named(spans, "command attend")
    commit, xadd = named(spans, "group commit"), named(spans, "write-through XADD")
    assert http.parent is None
    assert http.kind == SpanKind.SERVER
    assert parent_of(command) == http.context.span_id
    assert parent_of(commit) == command.context.span_id
    assert parent_of(xadd) == commit.context.span_id
    assert dict(http.attributes or {}) == {
        "http.request.method": "POST",
        "http.route": "/humans/{human_id}/attend",
        "url.path": f"/humans/{human}/attend",
        "hot.request_id": answer.headers["x-request-id"],
        "http.response.status_code": 200,
    }
    assert dict(command.attributes or {}) == {
        "hot.command": "attend",
        "hot.human_id": human,
        "hot.outcome": "accepted",
        "hot.log.position": answer.json()["position"],
    }
    position = answer.json()["position"]
    assert dict(commit.attributes or {}) == {
        "hot.batch.commands": 1,
        "db.system.name": "postgresql",
        "hot.log.first_position": position,
        "hot.log.last_position": position,
    }
    assert [e.name for e in commit.events] == ["COMMIT"]
    assert (xadd.attributes or {})["hot.write_through.result"] == "hit"
    assert commit.links == ()  # no other command in its transaction


def test_a_refused_command_records_its_outcome_and_nothing_else(
    client: TestClient[Litestar], exported: InMemorySpanExporter
) -> None:
    human = Humans(client).member()
    assert client.post(f"/humans/{human}/attend", json={"on": "2024-05-06"}).status_code == 200
    exported.clear()

    again = client.post(f"/humans/{human}/attend", json={"on": "2024-05-06"})  # once a day
    assert again.status_code == 409

    spans = trace_of(exported, ATTEND, 2)
    assert sorted(s.name for s in spans) == [ATTEND, "command attend"]
    command = named(spans, "command attend")
    assert dict(command.attributes or {}) == {
        "hot.command": "attend",
        "hot.human_id": human,
        "hot.outcome": "refused",
    }
    assert command.status.status_code == StatusCode.UNSET  # the client's error, not ours
    assert command.events == ()
    assert (named(spans, ATTEND).attributes or {})["http.response.status_code"] == 409


def test_a_request_that_carries_a_traceparent_continues_the_callers_trace(
    client: TestClient[Litestar], exported: InMemorySpanExporter
) -> None:
    human = Humans(client).member()
    caller_trace, caller_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    exported.clear()

    headers = {"traceparent": f"00-{caller_trace}-{caller_span}-01"}
    answer = client.post(f"/humans/{human}/attend", json={"on": "2024-05-07"}, headers=headers)
    assert answer.status_code == 200, answer.text

    spans = trace_of(exported, ATTEND, 4)
    http = named(spans, ATTEND)
    assert format(http.context.trace_id, "032x") == caller_trace
    assert http.parent is not None
    assert format(http.parent.span_id, "016x") == caller_span
    assert len(spans) == 4  # the command, its commit and its XADD in the caller's trace


def test_a_transaction_of_many_commands_is_a_child_of_the_first_and_links_the_others(
    traced_app: Any, exported: InMemorySpanExporter
) -> None:
    app: HumansApplication = traced_app.application
    humans = [
        traced_app.register(f"Batch {i}", f"b{uuid.uuid4().hex[:10]}@example.org", HumanKind.GUEST)
        for i in range(3)
    ]
    for human in humans:
        traced_app.join(human.id, date(2020, 1, 1), "engineer")
    exported.clear()

    async def together() -> None:  # handed in in one turn of the loop: one transaction
        await asyncio.gather(*(app.attend(h.id, date(2024, 5, 6)) for h in humans))

    run(together())

    def ended() -> list[ReadableSpan]:
        return exported.get_finished_spans()

    wait_until(lambda: any(s.name == "group commit" for s in ended()), 10, "the commit's span")
    spans = ended()
    commands = [s for s in spans if s.name == "command attend"]
    (commit,) = [s for s in spans if s.name == "group commit"]
    assert len(commands) == 3
    assert (commit.attributes or {})["hot.batch.commands"] == 3
    parent = next(c for c in commands if c.context.span_id == parent_of(commit))
    assert commit.context.trace_id == parent.context.trace_id
    others = {c.context.span_id for c in commands} - {parent.context.span_id}
    assert {link.context.span_id for link in commit.links} == others


def test_each_page_the_relay_publishes_is_a_span(
    app: HumansApplication,
    tracing: Tracing,
    exported: InMemorySpanExporter,
    database_url: str,
    redis_server_url: str,
    redis_prefix: str,
) -> None:
    write_humans(app, 4, joining=2)
    client = redis.Redis.from_url(redis_server_url)
    try:
        relay_until_caught_up(app, client, database_url, redis_prefix, tracer=tracing.tracer)
    finally:
        client.close()

    pages = [s for s in exported.get_finished_spans() if s.name == "relay XADD"]
    assert pages
    assert all((s.attributes or {})["hot.relay.accepted"] for s in pages)
    assert sum(int((s.attributes or {})["hot.events"]) for s in pages) == len(public_log(app))
    assert max(int((s.attributes or {})["hot.log.last_position"]) for s in pages) == (
        public_log(app)[-1].position
    )


def test_traces_are_off_unless_an_otel_variable_turns_them_on() -> None:
    assert tracing_from_env({}) is None
    assert tracing_from_env({"OTEL_SERVICE_NAME": "hot-a"}) is None  # names, exports nothing
    assert tracing_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None
    disabled = {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "console"}
    assert tracing_from_env(disabled) is None

    on = tracing_from_env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert on is not None
    assert on.provider.resource.attributes["service.name"] == "hot"  # no OTEL_SERVICE_NAME
    on.close()


@pytest.mark.parametrize(
    "environ",
    [
        {"OTEL_TRACES_EXPORTER": "jaeger"},
        {"OTEL_TRACES_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"},
    ],
)
def test_what_hot_cannot_export_is_a_clear_error(environ: dict[str, str]) -> None:
    with pytest.raises(TracingSettingError):
        tracing_from_env(environ)
