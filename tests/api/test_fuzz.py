"""A fuzzing campaign of the HTTP API (issue 18): any body, header and query, on every route.

Hypothesis sends, with an admin token, to every command and query route, about real
humans (a member, a registered human, a former member, a forgotten one) as well as
unknown ids and ids that are no UUID at all:

- bodies: any JSON value (text with NUL, control, zero-width, bidi and unassigned
  characters, lone surrogates, huge numbers, NaN, nesting), objects of the route's own
  fields holding such values or plausible ones (so that cases reach the rules, not only
  the body's validation), bytes that are no JSON, bodies nested thousands deep or over
  the size limit;
- headers: If-Match, Idempotency-Key and Content-Type of any bytes a server can receive;
- query strings of any names and values.

Every answer comes within ``DEADLINE_SECONDS``, none is a 5xx, every 4xx is a problem
(RFC 9457) and records nothing (the log's head stays where it was), and a query records
nothing whatever its answer. Derandomized: CI runs the same cases every time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as DeadlineExceeded
from dataclasses import dataclass, field
from datetime import date
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import CATALOG, HumansApplication
from hot.application.envelopes import COMMANDS, REGISTRATION
from hot.domain import HumanKind
from tests.api.conftest import Humans, problem

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]

EXAMPLES = 300  # per route
DEADLINE_SECONDS = 10.0  # below the application's own deadline (15 s), above any answer
FUZZING = settings(
    max_examples=EXAMPLES,
    derandomize=True,  # the same cases on every run: CI answers for what ran here
    deadline=None,  # each request has its own deadline, DEADLINE_SECONDS
    # The humans are set up once per route; the cases change them, as clients would.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text -----------------------------------------------------------------------------------

# Characters that have broken text handling somewhere: NUL and other controls, line and
# paragraph separators, zero-width and bidi controls, a BOM, a noncharacter, an
# unassigned code point, a tag character, an emoji, and lone surrogates (which no UTF-8
# can hold: they only travel as JSON escapes).
ODD_CHARACTERS = (
    "\x00\x01\x08\t\n\x0b\x0c\r\x1b\x7f\x80\x85\x9f\xa0\xad\u0300\u061c\u115f\u180e"
    "\u2000\u200b\u200c\u200d\u200e\u2028\u2029\u202e\u2060\u2066\u3000\ufeff\ufffd"
    "\uffff\U0001f600\U000e0001\U0010ffff\ud800\udfff"
)
# Each character any code point or an odd one (``st.text`` would draw the odd ones as
# rarely as any other, and never a lone surrogate).
texts = st.lists(st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=30).map(
    "".join
)
names = st.one_of(
    st.sampled_from(["Hari Seldon", " Gaal Dornick ", "Ébling Mis", "x" * 200, "x" * 201]), texts
)

# JSON -----------------------------------------------------------------------------------

HUGE_NUMBERS = [2**53, 2**63, 2**64, -(2**63) - 1, 10**400, -(10**400)]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE_NUMBERS),
    st.floats(),  # NaN and infinities too: written as NaN, Infinity, which JSON has not
    texts,
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


def mostly(
    valid: st.SearchStrategy[Any], wild: st.SearchStrategy[Any], one_in: int = 6
) -> st.SearchStrategy[Any]:
    """``valid``, but ``wild`` one time in ``one_in``: a case is wild in a place or two and
    valid in the others, so that it gets past the checks before the one it tests. (Wild
    is not the first choice, which cases shrink to, nor the last, which Hypothesis
    favours.)"""
    choices = [True] * one_in
    choices[one_in // 2] = False
    return st.sampled_from(choices).flatmap(lambda ok: valid if ok else wild)


def field_value(valid: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """A value a field takes, or any text, or any JSON value."""
    return mostly(valid, st.one_of(texts, json_values), one_in=8)


days = st.dates(min_value=date(2019, 1, 1), max_value=date(2031, 12, 31)).map(date.isoformat)
FIELDS: dict[str, st.SearchStrategy[Any]] = {
    "name": field_value(names),
    "email": field_value(st.emails()),  # derandomized: some repeat, and are taken
    "kind": field_value(st.sampled_from([k.value for k in HumanKind])),
    "on": field_value(days),
    "role": field_value(st.sampled_from(["psychohistorian", "archivist"]) | texts),
    "reason": field_value(st.sampled_from(["exile", "retired\nat last", None]) | texts),
    "by": field_value(st.just("admin")),
    "scheme": field_value(st.sampled_from(["ecode", "badge", "Ecode"]) | texts),
    "value": field_value(st.sampled_from(["E1", "E2", " E3 ", ""]) | texts),
}
# The built-in names an envelope may carry (HUMAN_FORGOTTEN and the catalog's own
# EVENT_TYPE_* events cannot be posted: wild ones).
EVENT_NAMES = st.sampled_from(list(COMMANDS))
# Each event's payload fields, as the catalog states them.
PAYLOAD_FIELDS = {t.info().name: tuple(t.info().schema["properties"]) for t in CATALOG}


# Requests -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Route:
    """A route to fuzz: its method and path (``{id}`` for the human), the fields of its
    body (None: it takes no body) and its query parameters."""

    method: str
    path: str
    fields: tuple[str, ...] | None = None
    query: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


COMMANDS = [
    Route("POST", "/humans", ("name", "email", "kind")),
    Route("POST", "/humans/{id}/join", ("on", "role")),
    Route("POST", "/humans/{id}/leave", ("on", "reason")),
    Route("POST", "/humans/{id}/attend", ("on",)),
    Route("PATCH", "/humans/{id}", ("name", "email")),
    Route("PUT", "/humans/{id}/external-ids/{scheme}", ("value",)),
    Route("POST", "/events", ("id", "name", "version", "payload")),
    Route("POST", "/humans/{id}/forget"),
]
QUERIES = [
    Route("GET", "/humans/{id}", query=("version", "as_of")),
    Route("GET", "/humans", query=("email", "external_id")),
    Route("GET", "/humans/{id}/events", query=("after", "limit")),
    Route("GET", "/events", query=("after", "limit", "name")),
]


@dataclass(frozen=True)
class Sent:
    """One request of the campaign, as sent."""

    method: str
    path: str
    content: bytes | None
    headers: dict[str, bytes] = field(default_factory=dict)
    params: list[tuple[str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        body = self.content if self.content is None or len(self.content) < 300 else b"(long)"
        return f"{self.method} {self.path} params={self.params!r} headers={self.headers!r} {body!r}"


# Bytes an HTTP server hands on in a field value: visible ASCII, space, tab, and 0x80-0xFF.
header_bytes = st.text(
    st.one_of(st.sampled_from("\t "), st.characters(min_codepoint=0x21, max_codepoint=0xFF)),
    max_size=40,
).map(lambda text: text.replace("\x7f", "").encode("latin-1"))
VALID_HEADERS = {
    "If-Match": ['"1"', '"2"', '"3"', '"4"', "*"],
    "Idempotency-Key": ["k", "retry-1", "x" * 255],
}
ODD_HEADERS = {
    "If-Match": ['W/"1"', '"1", "2"', '"999999999999999"', '"9999999999999999"', '""', "1"],
    "Idempotency-Key": ["x" * 256, "a b", "", " k", "\tk"],
    "Content-Type": [
        "application/json; charset=utf-8",
        "application/json; charset=latin-1",
        "application/problem+json",
        "application/JSON",
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "",
    ],
}
QUERY_VALUES = {
    "after": ["0", "1", "2", "5", "100"],
    "limit": ["1", "2", "100", "1000"],
    "version": ["1", "2", "3", "4"],
    "as_of": ["2000-01-01T00:00:00Z", "2999-01-01T00:00:00+00:00", "2026-01-05T10:00:00+01:00"],
    "name": list(CATALOG.names),
    "email": ["hari@trantor.example", "HARI@trantor.example", "no one"],
    "external_id": ["ecode:E1", "badge:E2", "ecode: E3 ", "ecode", ":E1", "Ecode:E1"],
}
ODD_QUERY_VALUES = [
    *["0", "-1", "1001", "1e3", "0x10", " 1", "+1", "9007199254740991", "9007199254740992"],
    *["99999999999999999999", "2026-01-05T10:00:00", "0001-01-01T00:00:00+14:00"],
    *["9999-12-31T23:59:59-14:00", "2026-01-05", "HUMAN", ""],
]


def header(name: str) -> st.SearchStrategy[bytes | None]:
    """A header's value: absent or valid mostly, else an odd one or any bytes."""
    given = st.sampled_from(VALID_HEADERS.get(name, [])).map(str.encode)
    valid = mostly(st.none(), given, one_in=3)
    if name == "Content-Type":
        valid = st.just(b"application/json")
    odd = st.none() | st.sampled_from(ODD_HEADERS[name]).map(str.encode) | header_bytes
    return mostly(valid, odd, one_in=10)


def chance(percent: int) -> st.SearchStrategy[bool]:
    return st.integers(0, 99).map(lambda n: n < percent)


def encoded(value: Any) -> st.SearchStrategy[bytes]:
    """``value`` as JSON: escaped (\\u0000, \\ud800), or as UTF-8 bytes (a lone surrogate
    then takes bytes no UTF-8 has: a 400, see ``test_a_json_string_that_is_not_utf8_is_a_400``)."""
    return st.booleans().map(
        lambda ascii_only: json.dumps(value, ensure_ascii=ascii_only).encode(
            "utf-8", "surrogatepass"
        )
    )


@st.composite
def objects(draw: st.DrawFn, fields: dict[str, st.SearchStrategy[Any]]) -> dict[str, Any]:
    """An object of ``fields``, each there 19 times in 20, and rarely one more."""
    value = {name: draw(strategy) for name, strategy in fields.items() if draw(chance(95))}
    if draw(chance(5)):
        value[draw(texts)] = draw(json_values)  # a field the route does not take
    return value


# Nesting depths: any, and around the JSON decoder's limit (1,000) and far past it.
depths = st.integers(1, 5000) | st.sampled_from([999, 1000, 1001, 30_000])


def anything() -> st.SearchStrategy[bytes]:
    """A body that is no object of the route: any JSON, bytes, deep nesting, too large."""
    return st.one_of(
        json_values.flatmap(encoded),
        st.binary(max_size=40),
        depths.map(lambda depth: b"[" * depth + b"]" * depth),
        st.integers(60_000, 70_000).map(lambda size: json.dumps("x" * size).encode()),
    )


def body(route: Route, ids: list[str]) -> st.SearchStrategy[bytes]:
    """An object of the route's fields mostly, else anything."""
    assert route.fields is not None
    if route.path == "/events":
        valid = envelopes(ids)
    else:
        valid = objects({name: FIELDS[name] for name in route.fields})
    return mostly(valid.flatmap(encoded), anything(), one_in=8)


@st.composite
def envelopes(draw: st.DrawFn, ids: list[str]) -> dict[str, Any]:
    """An envelope of a catalog event with that event's fields, about a real human
    mostly (a registration: about a new one)."""
    refused = st.sampled_from(["HUMAN_FORGOTTEN", "EVENT_TYPE_REGISTERED", "NO_SUCH_TYPE"])
    wild_names = st.one_of(refused, texts, json_values)
    name = draw(mostly(EVENT_NAMES, wild_names, one_in=8))
    fields = PAYLOAD_FIELDS[name] if isinstance(name, str) and name in COMMANDS else tuple(FIELDS)
    about = st.uuids().map(str) if name == REGISTRATION else st.sampled_from(ids)
    payload = objects({"human_id": field_value(about), **{f: FIELDS[f] for f in fields}})
    envelope = {
        "id": field_value(st.uuids().map(str)),
        "name": st.just(name),
        "version": field_value(st.sampled_from([1, 1, 1, 2, 0, 1_000_001])),
        "payload": mostly(payload, json_values),
    }
    return draw(objects(envelope))


def human_ids(ids: list[str]) -> st.SearchStrategy[str]:
    """A real human's id mostly, else an unknown one, or text (sent percent-encoded)."""
    unknown = st.uuids().map(str)
    text = texts.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe=""))
    return mostly(st.sampled_from(ids), unknown | text, one_in=8)


def schemes() -> st.SearchStrategy[str]:
    """A scheme mostly, else any text (sent percent-encoded)."""
    text = texts.map(lambda t: quote(t.encode("utf-8", "surrogatepass"), safe=""))
    return mostly(st.sampled_from(["ecode", "badge"]), text, one_in=8)


def query(route: Route) -> st.SearchStrategy[list[tuple[str, str]]]:
    """Query parameters: mostly the route's own with values they take (none for a
    command), else any name or value."""
    odd_names = st.sampled_from(["after", "limit", "name", "version", "as_of", "access_token"])
    odd = st.tuples(odd_names | texts, st.sampled_from(ODD_QUERY_VALUES) | texts)
    if not route.query:
        return mostly(st.just([]), st.lists(odd, min_size=1, max_size=2), one_in=10)
    valid = st.sampled_from(route.query).flatmap(
        lambda name: st.tuples(st.just(name), st.sampled_from(QUERY_VALUES[name]))
    )
    return st.lists(mostly(valid, odd), max_size=3)


@st.composite
def requests(draw: st.DrawFn, route: Route, ids: list[str]) -> Sent:
    """A request to ``route``, about one of ``ids`` (real humans) mostly."""
    path = route.path.replace("{id}", draw(human_ids(ids)))
    if "{scheme}" in path:
        path = path.replace("{scheme}", draw(schemes()))
    wanted = [*VALID_HEADERS, *(["Content-Type"] if route.fields is not None else [])]
    headers = {name: value for name in wanted if (value := draw(header(name))) is not None}
    content = draw(body(route, ids)) if route.fields is not None else None
    # httpx cannot put a lone surrogate in a URL: it goes as U+FFFD.
    params = [(_sendable(k), _sendable(v)) for k, v in draw(query(route))]
    return Sent(route.method, path, content, headers, params)


def _sendable(text: str) -> str:
    return text.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


# Fixtures -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sender() -> Iterator[ThreadPoolExecutor]:
    """The thread requests are sent from, so that the test can stop waiting for one."""
    executor = ThreadPoolExecutor(1, thread_name_prefix="fuzz-request")
    yield executor
    executor.shutdown(wait=False, cancel_futures=True)


@pytest.fixture
def real_humans(given: Humans, client: Client) -> list[str]:
    """Humans of every kind of state, for one route's cases: a member (who attended), a
    registered human, a former member and a forgotten one."""
    member = given.member(joined_on="2020-01-01")
    attended = client.post(f"/humans/{member}/attend", json={"on": "2020-01-02"})
    assert attended.status_code == 200, attended.text
    former = given.member(joined_on="2020-01-01")
    left = client.post(f"/humans/{former}/leave", json={"on": "2020-06-30", "reason": "exile"})
    assert left.status_code == 200, left.text
    forgotten = given.register()
    assert client.post(f"/humans/{forgotten}/forget").status_code == 200
    return [member, given.register(), former, forgotten]


# The campaign ---------------------------------------------------------------------------


def send(client: Client, sender: ThreadPoolExecutor, sent: Sent) -> Any:
    """``sent``'s answer; fails the test if none comes within ``DEADLINE_SECONDS``."""
    future = sender.submit(
        client.request,
        sent.method,
        sent.path,
        content=sent.content,
        headers=sent.headers,
        params=sent.params,
    )
    try:
        return future.result(timeout=DEADLINE_SECONDS)
    except DeadlineExceeded:
        pytest.fail(f"no answer within {DEADLINE_SECONDS} s: {sent}")


def check(answer: Any, sent: Sent, recorded: bool) -> None:
    """Below 500; a 4xx a problem that recorded nothing."""
    status = answer.status_code
    assert status < 500, f"{status} {answer.text} for {sent}"
    if status >= 400:
        assert answer.headers["content-type"].startswith("application/problem+json"), sent
        problem = answer.json()
        assert problem["status"] == status, sent
        assert problem["type"].startswith("urn:hot:problem:"), sent
        assert not recorded, f"{status} {answer.text} recorded an event, for {sent}"


@pytest.mark.parametrize("route", COMMANDS + QUERIES, ids=str)
@FUZZING
@given(data=st.data())
def test_a_route_answers_anything_below_500_and_a_refusal_or_a_query_records_nothing(
    client: Client,
    humans: HumansApplication,
    sender: ThreadPoolExecutor,
    real_humans: list[str],
    route: Route,
    data: st.DataObject,
) -> None:
    sent = data.draw(requests(route, real_humans), label="request")
    head = humans.head()

    answer = send(client, sender, sent)

    recorded = humans.head() != head
    check(answer, sent, recorded=recorded)
    if route in QUERIES:
        assert not recorded, f"a query recorded an event: {sent}"


@pytest.mark.parametrize(
    "content",
    [
        b'{"name": "Ren\xe9 Seldon", "email": "rene@trantor.example", "kind": "guest"}',
        b'{"name": "Hari \xed\xa0\x80", "email": "hari@trantor.example", "kind": "guest"}',
    ],
    ids=["latin-1", "surrogate"],
)
def test_a_json_string_that_is_not_utf8_is_a_400(
    client: Client, humans: HumansApplication, content: bytes
) -> None:
    head = humans.head()

    response = client.post("/humans", content=content, headers={"content-type": "application/json"})

    problem(response, 400, "malformed-request")
    assert humans.head() == head
