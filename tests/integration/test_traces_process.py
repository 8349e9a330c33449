"""``hot serve`` exporting its traces over OTLP/HTTP, as the standard ``OTEL_*`` variables
ask, to a receiver the test runs: an attend's spans arrive, chained from the request to
the XADD; with ``OTEL_SDK_DISABLED=true`` nothing does."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.otlp import OtlpReceiver, ReceivedSpan
from tests.processes import HotProcess, Processes
from tests.serving import free_port
from tests.waiting import wait_until
from tests.workers import answers

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

ATTEND = "POST /humans/{human_id}/attend"


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


def serve(processes: Processes, **env: str) -> tuple[HotProcess, int, str]:
    """``hot serve`` on a fresh database, once it answers: the process, its port and the
    admin token it printed."""
    port = free_port()
    process = processes.hot(["serve", "--port", str(port)], **env).start()
    process.wait_for_output("Its token", 60, "hot serve prints the admin token")
    token = process.output().split("Its token", 1)[1].splitlines()[0].rsplit(" ", 1)[-1]
    wait_until(lambda: answers(port), 60, "hot serve answers")
    return process, port, token.strip()


def call(port: int, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    conn.request("POST", path, json.dumps(body), headers)
    response = conn.getresponse()
    answer: dict[str, Any] = json.loads(response.read())
    assert response.status in (200, 201), answer
    return answer


def a_life(port: int, token: str) -> str:
    """A human registered, joining and attending: the human's id."""
    human = call(port, token, "/humans", {"name": "Hari", "email": "h@t.example", "kind": "guest"})
    call(port, token, f"/humans/{human['id']}/join", {"on": "2020-01-01", "role": "seer"})
    call(port, token, f"/humans/{human['id']}/attend", {"on": "2024-05-06"})
    return str(human["id"])


def otel(receiver: OtlpReceiver, **env: str) -> dict[str, str]:
    return {
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "100",
        **env,
    }


def test_an_attend_arrives_at_the_collector_chained_from_request_to_xadd(
    processes: Processes, receiver: OtlpReceiver
) -> None:
    process, port, token = serve(processes, **otel(receiver, OTEL_SERVICE_NAME="hot-e2e"))
    human = a_life(port, token)

    def attend_trace() -> list[ReceivedSpan]:
        spans = receiver.received()
        roots = [s for s in spans if s.name == ATTEND]
        if not roots:
            return []
        trace = [s for s in spans if s.trace_id == roots[0].trace_id]
        return trace if len(trace) >= 4 else []

    wait_until(attend_trace, 30, "the attend's spans reach the receiver")
    spans = {s.name: s for s in attend_trace()}
    assert set(spans) == {ATTEND, "command attend", "group commit", "write-through XADD"}
    assert spans[ATTEND].parent_span_id == ""
    assert spans["command attend"].parent_span_id == spans[ATTEND].span_id
    assert spans["group commit"].parent_span_id == spans["command attend"].span_id
    assert spans["write-through XADD"].parent_span_id == spans["group commit"].span_id
    assert spans["command attend"].attributes["hot.human_id"] == human
    assert spans["command attend"].attributes["hot.outcome"] == "accepted"
    assert {s.service_name for s in spans.values()} == {"hot-e2e"}
    assert process.terminate(30) == 0, process.output()


def test_with_the_sdk_disabled_nothing_is_exported(
    processes: Processes, receiver: OtlpReceiver
) -> None:
    process, port, token = serve(processes, **otel(receiver, OTEL_SDK_DISABLED="true"))
    a_life(port, token)

    # Were traces on, the shutdown would export what was left before the process ends.
    assert process.terminate(30) == 0, process.output()
    assert receiver.received() == []
