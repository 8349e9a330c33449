"""Logs: no personal data and no token in any line of any logger at any level, through a
whole life and its forgetting; every line of a request names it; JSON on demand."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator

import pytest
from litestar import Litestar, get
from litestar.testing import TestClient

from hot.api import create_app
from hot.application import HumansApplication
from hot.infra.api_keys import ApiKeyStore
from hot.infra.logs import JsonFormatter, RequestIdFilter, configure_logging
from hot.infra.metrics import HotMetrics
from tests.api.conftest import Tokens, bearer
from tests.standup import STANDUP_V1, STANDUP_V1_PAYLOAD

# The test's own HTTP client logs each URL it calls: it is not HoT, and no URL of the
# life below holds personal data or a token anyway (but HoT's lines are searched).
CLIENT_LOGGERS = ("httpx", "httpcore")
READABLE = "%(asctime)s %(levelname)s %(name)s%(request)s: %(message)s %(exc_text)s"


class Lines(logging.Handler):
    """Every record of every logger, formatted both ways (readable and JSON)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.addFilter(RequestIdFilter())
        self.readable, self.json = logging.Formatter(READABLE), JsonFormatter()
        self.lines: list[str] = []
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        self.lines += [self.readable.format(record), self.json.format(record)]

    def pairs(self) -> list[tuple[logging.LogRecord, str]]:
        """Each record with each of its two lines."""
        return [
            (r, line) for i, r in enumerate(self.records) for line in self.lines[2 * i : 2 * i + 2]
        ]


@pytest.fixture
def lines() -> Iterator[Lines]:
    root, handler = logging.getLogger(), Lines()
    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)]
    kept = [(logger, logger.level, logger.propagate) for logger in loggers]
    previous = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    for logger in loggers:  # no logger held back (a uvicorn run may have set some apart)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True
    yield handler
    root.removeHandler(handler)
    root.setLevel(previous)
    for logger, level, propagate in kept:
        logger.setLevel(level)
        logger.propagate = propagate


@get("/test/logs", sync_to_thread=False, opt={"public": True})
def logs_something() -> str:
    logging.getLogger("hot.test").info("handling it")
    return "ok"


@pytest.fixture
def app(humans: HumansApplication, api_keys: ApiKeyStore) -> Iterator[TestClient[Litestar]]:
    api = create_app(humans, api_keys, metrics=HotMetrics())
    api.register(logs_something)
    with TestClient(api) as client:
        yield client


def record_standup(client: TestClient[Litestar], human: str, ecode: str) -> object:
    """A team's event about ``human`` whose personal field ``ecode`` holds ``ecode``."""
    name = f"RECEIVED_STANDUP_UPDATE_{uuid.uuid4().hex[:8].upper()}"
    body = {"name": name, "description": "A standup.", "owner": "standup-team"}
    assert client.post("/catalog/types", json=body).status_code == 201
    schema = {"schema": STANDUP_V1}
    assert client.post(f"/catalog/types/{name}/versions", json=schema).status_code == 201
    payload = {"human_id": human, **STANDUP_V1_PAYLOAD, "ecode": ecode}
    envelope = {"id": str(uuid.uuid4()), "name": name, "version": 1, "payload": payload}
    answer = client.post("/events", json=envelope)
    assert answer.status_code == 201, answer.text
    return answer


def test_a_whole_life_logs_no_personal_data_and_no_token(
    app: TestClient[Litestar], tokens: Tokens, lines: Lines
) -> None:
    mark = uuid.uuid4().hex[:10]
    secrets = {
        "name": f"Salvor Hardin {mark}",
        "email": f"salvor.{mark}@terminus.example",
        "new name": f"Salvor H. {mark}",
        "new email": f"mayor.{mark}@terminus.example",
        "reason": f"Elected mayor {mark}",
        "personal value": f"EC-{mark}",
        "token": tokens.admin,
    }
    app.headers.update(bearer(tokens.admin))
    body = {"name": secrets["name"], "email": secrets["email"], "kind": "employee"}
    human = app.post("/humans", json=body).json()["id"]
    steps = [
        app.post(f"/humans/{human}/join", json={"on": "2020-01-01", "role": "mayor"}),
        app.post(f"/humans/{human}/attend", json={"on": "2020-01-02"}),
        app.post(f"/humans/{human}/attend", json={"on": "2020-01-02"}),  # refused: logged?
        app.patch(f"/humans/{human}", json={"name": secrets["new name"]}),
        app.patch(f"/humans/{human}", json={"email": secrets["new email"]}),
        app.post("/humans", json={**body, "email": secrets["new email"]}),  # email taken
        app.post(f"/humans/{human}/leave", json={"on": "2020-02-01", "reason": secrets["reason"]}),
        record_standup(app, human, secrets["personal value"]),
        app.get(f"/humans/{human}"),
        app.get(f"/humans/{human}/events"),
        app.post(f"/humans/{human}/forget", json={}),
        app.get(f"/humans/{human}"),
    ]
    assert [s.status_code < 500 for s in steps] == [True] * len(steps)

    assert lines.lines, "nothing was logged: the test would prove nothing"
    served = [line for r, line in lines.pairs() if not r.name.startswith(CLIENT_LOGGERS)]
    assert len(served) > 10, served  # the server's libraries, at debug, said something
    leaked = {
        what: [line for line in served if secret.lower() in line.lower()]
        for what, secret in secrets.items()
    }
    assert {what: found for what, found in leaked.items() if found} == {}


def test_each_line_of_a_request_names_it(app: TestClient[Litestar], lines: Lines) -> None:
    answer = app.get("/test/logs", headers={"X-Request-ID": "req-123"})

    assert answer.headers["x-request-id"] == "req-123"
    handled = [r for r in lines.records if r.name == "hot.test"]
    assert [getattr(r, "request_id", None) for r in handled] == ["req-123"]
    assert "[req-123]" in lines.readable.format(handled[0])
    assert json.loads(lines.json.format(handled[0]))["request_id"] == "req-123"


def test_a_query_token_is_hidden_in_an_access_log_line(lines: Lines) -> None:
    access = logging.getLogger("uvicorn.access")
    access.info(
        '%s - "%s %s HTTP/%s" %d',
        "1.2.3.4",
        "GET",
        "/events/stream?access_token=s3cr3t&after=1",
        "1.1",
        200,
    )

    assert not [line for line in lines.lines if "s3cr3t" in line]
    assert any("access_token=(hidden)" in line for line in lines.lines)


def test_configure_logging_leaves_a_root_with_foreign_handlers_alone(lines: Lines) -> None:
    before = list(logging.getLogger().handlers)

    configure_logging(logging.INFO, "json")

    assert logging.getLogger().handlers == before


def test_the_app_leaves_logging_to_the_entry_point(
    humans: HumansApplication, api_keys: ApiKeyStore
) -> None:
    before = list(logging.getLogger().handlers)

    with TestClient(create_app(humans, api_keys)) as client:
        client.get("/health/live")

    assert logging.getLogger().handlers == before  # Litestar configured nothing
