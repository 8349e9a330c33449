"""A projection's metrics (``ProjectionRunner(meter=ProjectionMetrics(...))``, what
``hot-attendance --metrics-port`` serves): its position, its lag behind the head, its
handlers' failures, and whether it is stuck, as promtool reads them."""

from __future__ import annotations

import urllib.request
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from hot.application import HumansApplication, RecordedEvent
from hot.infra.postgres_log import PostgresLog
from hot_attendance.metrics import ProjectionMetrics
from hot_follow import Feed, PostgresProjectionStore, Projection, ProjectionRunner, handles
from tests.promtool import check_metrics, value
from tests.serving import free_port
from tests.waiting import wait_until

from .conftest import full_log, running, write_lives

PgTx = psycopg.Connection[tuple[Any, ...]]
pytestmark = pytest.mark.postgres


class Refusing(Projection[PgTx]):
    """Handles every registration and attendance, but raises on the positions in ``poison``."""

    name = "refusing"

    def __init__(self, poison: set[int]) -> None:
        self.poison = poison

    def setup(self, tx: PgTx) -> None:
        pass

    def clear(self, tx: PgTx) -> None:
        pass

    @handles("HUMAN_REGISTERED", "HUMAN_ATTENDED")
    def handle(self, event: RecordedEvent, tx: PgTx) -> None:
        if event.position in self.poison:
            raise ValueError("cannot handle it")


@pytest.fixture
def store(database_url: str) -> Iterator[PostgresProjectionStore]:
    made = PostgresProjectionStore(database_url)
    yield made
    made.close()


def scraped(metrics: ProjectionMetrics, port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return str(response.read().decode())


def stuck_after(text: str, position: int) -> bool:
    stuck = value(text, "hot_projection_stuck") == 1
    return stuck and value(text, "hot_projection_position") == position


def test_a_stuck_projection_shows_where_then_catches_up(
    app: HumansApplication, log_source: PostgresLog, store: PostgresProjectionStore
) -> None:
    write_lives(app, 2, 3)
    handled = full_log(app, ("HUMAN_REGISTERED", "HUMAN_ATTENDED"))
    poison = handled[3]
    projection = Refusing({poison.position})
    feed = Feed(log_source)
    metrics = ProjectionMetrics(projection.name, lambda: feed.head(projection.names))
    runner = ProjectionRunner(
        projection, store, feed, page_size=5, stuck_retry=(0.05, 0.2), meter=metrics
    )
    port = free_port()
    stop_serving = metrics.serve(port)
    try:
        with running(runner):
            before_poison = handled[2].position  # reached again at its next attempt
            wait_until(lambda: stuck_after(scraped(metrics, port), before_poison), 10, "stuck")
            text = scraped(metrics, port)
            assert value(text, "hot_projection_stuck_position") == poison.position
            assert value(text, "hot_projection_position") == handled[2].position
            assert value(text, "hot_projection_lag_positions") == (
                handled[-1].position - handled[2].position
            )
            assert value(text, "hot_projection_handler_errors_total") >= 1
            check_metrics(text)
            projection.poison.clear()  # fixed
            wait_until(
                lambda: value(scraped(metrics, port), "hot_projection_lag_positions") == 0,
                10,
                "caught up",
            )
        text = scraped(metrics, port)
    finally:
        stop_serving()
    assert value(text, "hot_projection_stuck") == 0
    assert value(text, "hot_projection_position") == handled[-1].position
    assert value(text, "hot_projection_head_position") == handled[-1].position
