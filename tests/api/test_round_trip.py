"""Every text HoT accepts, its followers can store and read back equal (issue 18).

Hypothesis registers humans, has them join, change their details and leave, with
arbitrary text in every text field (names, emails, roles, reasons): any code point,
lone surrogates included, NUL and other controls, zero-width and bidi characters,
noncharacters. Each event HoT records is read back as a follower reads it (``GET
/events``, with the personal scope): what it recorded is what was sent, trimmed, and a
PostgreSQL table of text columns and a SQLite table both store each text and give it
back equal. A text either of them cannot hold (NUL in PostgreSQL, a lone surrogate in
both) is refused with a 4xx problem, and nothing is recorded.
"""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from hot.application import HumansApplication

pytestmark = pytest.mark.postgres

Client = TestClient[Litestar]

LIVES = 500
TEXT_FIELDS = ("name", "email", "role", "reason")

# Characters a follower's store or a reader may trip on: those HoT takes in a name
# (zero-width, bidi, format and private-use characters, noncharacters, separators, the
# last code point), and the controls and lone surrogates it refuses.
SHOWN = "\xa0\xad\u200b\u200d\u200e\u2028\u202e\u2066\ufeff\ufffe\uffff\U0001f600\U000e0001"
CONTROLS = "\x00\x01\t\n\r\x1b\x7f\x85\x9f\ud800\udc00\udfff"


def text(*alphabets: st.SearchStrategy[str], min_size: int = 0) -> st.SearchStrategy[str]:
    """Text whose every character comes from one of ``alphabets`` (``st.text`` would draw
    the few odd characters as rarely as any other, and never a lone surrogate)."""
    return st.lists(st.one_of(*alphabets), min_size=min_size, max_size=20).map("".join)


# Text HoT may well accept (no control character, no lone surrogate), or any text at all.
printable = st.characters(exclude_categories=("Cc", "Cs"))
texts = st.one_of(
    text(printable, st.sampled_from(SHOWN), min_size=1),
    text(st.characters(), st.sampled_from(SHOWN + CONTROLS)),
)
# An email of such parts: an address's characters (no space, @ or dot in a part), or any.
parts = st.one_of(
    text(
        st.characters(exclude_categories=("Cc", "Cs", "Zs", "Zl", "Zp"), exclude_characters="@."),
        min_size=1,
    ),
    texts,
)
emails = st.tuples(parts, parts, parts).map(lambda email: "{}@{}.{}".format(*email))


# A follower's stores ------------------------------------------------------------------


@dataclass
class Followers:
    """What followers keep text in: a PostgreSQL table and a SQLite table, text columns."""

    postgres: psycopg.Connection[Any]
    sqlite: sqlite3.Connection

    def store_and_read(self, text: str) -> list[str]:
        """``text`` stored in each table and read back; raises if a store cannot hold it."""
        with self.postgres.transaction():
            row = self.postgres.execute(
                "INSERT INTO followed_text (value) VALUES (%s) RETURNING id", (text,)
            ).fetchone()
            assert row is not None
            in_postgres = self.postgres.execute(
                "SELECT value FROM followed_text WHERE id = %s", row
            ).fetchone()
        inserted = self.sqlite.execute("INSERT INTO followed_text (value) VALUES (?)", (text,))
        in_sqlite = self.sqlite.execute(
            "SELECT value FROM followed_text WHERE id = ?", (inserted.lastrowid,)
        ).fetchone()
        assert in_postgres is not None
        assert in_sqlite is not None
        return [in_postgres[0], in_sqlite[0]]

    def keep(self, text: str) -> bool:
        """Whether both stores hold ``text`` and give it back equal."""
        try:
            return self.store_and_read(text) == [text, text]
        except (psycopg.DataError, UnicodeEncodeError, sqlite3.Error):
            return False


@pytest.fixture(scope="module")
def followers(module_database_url: str) -> Iterator[Followers]:
    with psycopg.connect(module_database_url, autocommit=True) as postgres:
        postgres.execute(
            "CREATE TABLE followed_text (id bigserial PRIMARY KEY, value text NOT NULL)"
        )
        sqlite = sqlite3.connect(":memory:")
        sqlite.execute("CREATE TABLE followed_text (id integer PRIMARY KEY, value text NOT NULL)")
        yield Followers(postgres, sqlite)
        sqlite.close()


# Lives --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A command of a life: its method, path (``{id}``: the human) and body."""

    method: str
    path: str
    body: dict[str, Any]


@st.composite
def lives(draw: st.DrawFn) -> list[Step]:
    """A registration, then a join, a change of details and a leave, each with
    arbitrary text."""
    change = draw(st.fixed_dictionaries({}, optional={"name": texts, "email": emails}).filter(bool))
    return [
        Step("POST", "/humans", {"name": draw(texts), "email": draw(emails), "kind": "guest"}),
        Step("POST", "/humans/{id}/join", {"on": "2020-01-01", "role": draw(texts)}),
        Step("PATCH", "/humans/{id}", change),
        Step("POST", "/humans/{id}/leave", {"on": "2020-06-30", "reason": draw(texts)}),
    ]


def recorded(client: Client, position: int) -> dict[str, Any]:
    """The event at ``position``, as a follower with the personal scope reads it."""
    response = client.get("/events", params={"after": position - 1, "limit": 1})
    assert response.status_code == 200, response.text
    [event] = response.json()["events"]
    assert event["position"] == position
    return dict(event)


def encoded(body: dict[str, Any], escaped: bool) -> bytes:
    """``body`` as JSON, its text escaped (\\u00e9) or as UTF-8. A lone surrogate goes
    escaped (\\ud800) only: as bytes, which no UTF-8 has, the body is not JSON text (a
    400, ``test_fuzz.test_a_json_string_that_is_not_utf8_is_a_400``), so nothing of its
    text reaches a follower to round-trip."""
    surrogate = any("\ud800" <= c <= "\udfff" for value in body.values() for c in str(value))
    return json.dumps(body, ensure_ascii=escaped or surrogate).encode()


def trimmed(field: str, text: str) -> str | None:
    """What HoT records of ``text`` sent as ``field``: trimmed (a blank reason: none)."""
    if field == "reason":
        return text.strip() or None
    return text.strip()


@settings(
    max_examples=LIVES,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(life=lives(), escaped=st.booleans())
def test_every_text_hot_records_its_followers_store_and_read_back_equal(
    client: Client,
    humans: HumansApplication,
    followers: Followers,
    life: list[Step],
    escaped: bool,
) -> None:
    human_id: str | None = None
    details: dict[str, str] = {}  # the human's name and email, as recorded
    one_of_a_kind = uuid.uuid4().hex[:8]  # an email of this life's alone, on every replay
    for step in life:
        if human_id is None and "{id}" in step.path:
            return  # not registered: nothing more to do in this life
        body = step.body
        if "email" in body:
            body = body | {"email": one_of_a_kind + body["email"]}
        content = encoded(body, escaped)
        # The texts as HoT reads them (a JSON reader joins an escaped surrogate pair).
        sent = {f: text for f, text in json.loads(content).items() if f in TEXT_FIELDS}
        head = humans.head()

        answer = client.request(
            step.method,
            step.path.format(id=human_id),
            content=content,
            headers={"content-type": "application/json"},
        )

        unkeepable = [f for f, text in sent.items() if not followers.keep(trimmed(f, text) or "")]
        if answer.status_code >= 300:
            assert 400 <= answer.status_code < 500, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
            assert humans.head() == head, f"refused, yet recorded: {step}"
            continue
        # Accepted: followers can keep every text of it, and HoT recorded what was sent.
        assert not unkeepable, f"accepted {unkeepable} of {step}, which followers cannot keep"
        human_id = answer.json()["id"]
        payload = recorded(client, answer.json()["position"])["payload"]
        for field, text in sent.items():
            expected = trimmed(field, text)
            if step.method == "PATCH" and expected == details[field]:
                expected = None  # a change records only what differs
            assert payload[field] == expected, (field, step)
            if payload[field] is not None:
                assert followers.store_and_read(payload[field]) == [payload[field]] * 2
        details |= {f: payload[f] for f in ("name", "email") if payload.get(f) is not None}
