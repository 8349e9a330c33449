"""``GET /metrics``: the Prometheus text format (promtool agrees), public, and its counters
move by exactly what a scripted workload did; every request has an id, echoed."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from hot.infra.metrics import HotMetrics
from tests.api.conftest import Humans, Tokens, bearer
from tests.promtool import check_metrics, value

ACCEPTED, REFUSED = 7, 3


@pytest.fixture(scope="module")
def metrics(humans: HumansApplication) -> HotMetrics:
    metrics = HotMetrics()
    humans.measure_with(metrics.command_meter)
    return metrics


@pytest.fixture(scope="module")
def measured(
    humans: HumansApplication, api_keys: ApiKeyStore, metrics: HotMetrics, tokens: Tokens
) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(humans, api_keys, metrics=metrics)) as client:
        client.headers.update(bearer(tokens.admin))
        yield client


def scrape(client: TestClient[Litestar]) -> str:
    response = client.get("/metrics", headers={"Authorization": ""})  # public: no token
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return response.text


def test_counts_each_command_by_its_outcome_exactly(measured: TestClient[Litestar]) -> None:
    human = Humans(measured).member("2020-01-01")
    days = [f"2021-03-{day:02d}" for day in range(1, ACCEPTED + 1)]
    before = scrape(measured)

    for day in days:
        assert measured.post(f"/humans/{human}/attend", json={"on": day}).status_code == 200
    for day in days[:REFUSED]:  # once a day: the rule refuses
        assert measured.post(f"/humans/{human}/attend", json={"on": day}).status_code == 409
    assert measured.post(f"/humans/{human}/attend", json={"on": "soon"}).status_code == 422
    after = scrape(measured)

    def moved(outcome: str) -> float:
        name, labels = "hot_commands_total", {"command": "attend", "outcome": outcome}
        return value(after, name, **labels) - value(before, name, **labels)

    assert (moved("accepted"), moved("refused"), moved("invalid")) == (ACCEPTED, REFUSED, 1)
    assert moved("conflict") == 0
    timed = "hot_command_seconds_count"
    assert value(after, timed, command="attend") - value(before, timed, command="attend") == (
        ACCEPTED + REFUSED
    )
    route = "/humans/{human_id}/attend"
    requests = {
        status: value(after, "hot_http_requests_total", route=route, status=status)
        - value(before, "hot_http_requests_total", route=route, status=status)
        for status in ("200", "409", "422")
    }
    assert requests == {"200": ACCEPTED, "409": REFUSED, "422": 1}
    assert value(after, "hot_group_commit_batch_commands_count") >= ACCEPTED


def test_the_output_passes_promtool(measured: TestClient[Litestar]) -> None:
    Humans(measured).member()
    measured.post("/humans", json={})  # an invalid command, counted

    check_metrics(scrape(measured))


def test_every_answer_has_a_request_id_and_a_given_one_is_honoured(
    measured: TestClient[Litestar],
) -> None:
    made = measured.get("/health/live").headers["x-request-id"]
    given = measured.get("/health/live", headers={"X-Request-ID": "trace-42.a:b"})
    refused = measured.get("/health/live", headers={"X-Request-ID": "no spaces\there"})

    assert made
    assert given.headers["x-request-id"] == "trace-42.a:b"
    assert refused.headers["x-request-id"] not in {"", "no spaces\there"}
    assert made != measured.get("/health/live").headers["x-request-id"]


def test_metrics_are_not_mounted_without_metrics(client: TestClient[Litestar]) -> None:
    assert client.get("/metrics").status_code == 404
