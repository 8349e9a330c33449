"""The web console end to end: ``hot serve`` as a process, Debian's Chromium as the user.

Each test drives the console as a person would (sign in, click, type) and checks what
the page shows against what the API holds; every page is saved as a screenshot under
the test's temporary directory, and no request may leave the server under test.
"""

from __future__ import annotations

import datetime
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.console.conftest import Console, Server

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def new_email() -> str:
    return f"c{uuid.uuid4().hex[:12]}@trantor.example"


def register(server: Server, name: str = "Hari Seldon") -> dict[str, Any]:
    """A human registered through the API: their id, email and the command's answer."""
    email = new_email()
    with server.api() as api:
        answer = api.post("/humans", json={"name": name, "email": email, "kind": "employee"})
    assert answer.status_code == 201, answer.text
    return {"id": answer.json()["id"], "email": email, "name": name, **answer.json()}


def post(server: Server, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    with server.api() as api:
        answer = api.post(path, json=body) if body is not None else api.post(path)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def test_sign_in_with_a_token_kept_in_session_storage(console: Console, server: Server) -> None:
    page = console.page
    console.open()
    console.shot("sign-in")
    page.fill("#token", "hot_not_a_token")
    page.click("#sign-in-form button[type=submit]")
    expect(page.locator("#sign-in-problem .problem-title")).to_have_text("Unauthorized")
    expect(page.locator("#sign-in-problem .problem-detail")).to_contain_text("unknown")
    assert page.evaluate("sessionStorage.getItem('hot-token')") is None
    console.shot("sign-in-refused")

    console.sign_in(server.admin)
    expect(page.locator("#who")).to_have_text(re.compile(r"^admin-\w+ \(admin\)$"))
    assert page.evaluate("sessionStorage.getItem('hot-token')") == server.admin
    assert page.evaluate("localStorage.length") == 0
    page.reload()  # the tab keeps its session
    expect(page.locator("#nav")).to_be_visible()
    console.shot("signed-in")
    page.click("#sign-out")
    expect(page.locator("#sign-in")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('hot-token')") is None


def test_an_event_posted_through_the_api_appears_in_the_live_feed_within_1_s(
    console: Console, server: Server
) -> None:
    page = console.page
    console.sign_in(server.admin)
    expect(page.locator("#feed-status")).to_have_text("live")
    posted_at = page.evaluate("Date.now()")  # the browser's clock, before the post
    human = register(server, name="Raych Seldon")
    row = page.locator(f"#feed-list .row[data-position='{human['position']}']")
    expect(row).to_be_visible()
    shown_at = int(row.get_attribute("data-received-at") or 0)
    assert 0 <= shown_at - posted_at < 1000, shown_at - posted_at
    expect(row.locator(".name")).to_have_text("HUMAN_REGISTERED")
    console.shot("live-feed")

    # Clicking it shows the event in full: HoT's JSON and its CloudEvents form.
    row.click()
    detail = page.locator("#feed-detail pre.json")
    expect(detail).to_have_count(2)
    hot = detail.nth(0).text_content() or ""
    cloud = detail.nth(1).text_content() or ""
    assert f'"subject": "{human["id"]}"' in hot
    assert '"name": "Raych Seldon"' in hot
    assert '"type": "hot.HUMAN_REGISTERED"' in cloud
    assert f'"hotposition": {human["position"]}' in cloud
    assert '"specversion": "1.0"' in cloud
    console.shot("live-feed-event")

    # Filters by name and by human.
    joined = post(server, f"/humans/{human['id']}/join", {"on": "2026-01-05", "role": "clerk"})
    joined_row = page.locator(f"#feed-list .row[data-position='{joined['position']}']")
    expect(joined_row).to_be_visible()
    page.select_option("#feed-name", "HUMAN_JOINED")
    expect(row).to_have_count(0)
    expect(joined_row).to_be_visible()
    page.select_option("#feed-name", "")
    other = register(server, name="Dors Venabili")
    page.fill("#feed-human", human["id"])
    expect(row).to_be_visible()
    expect(page.locator(f"#feed-list .row[data-position='{other['position']}']")).to_have_count(0)
    page.fill("#feed-human", "")

    # Pause: what arrives is kept, not shown, until resumed.
    page.click("#feed-pause")
    paused = register(server, name="Yugo Amaryl")
    paused_row = page.locator(f"#feed-list .row[data-position='{paused['position']}']")
    expect(page.locator("#feed-count")).to_contain_text("paused (1 new)")
    expect(paused_row).to_have_count(0)
    console.shot("live-feed-paused")
    page.click("#feed-pause")
    expect(paused_row).to_be_visible()


def test_search_a_human_by_email_and_see_their_page(console: Console, server: Server) -> None:
    human = register(server, name="Cleon the First")
    post(server, f"/humans/{human['id']}/join", {"on": "2026-01-05", "role": "emperor"})
    today = datetime.datetime.now(datetime.UTC).date().isoformat()
    post(server, f"/humans/{human['id']}/attend", {"on": today})
    page = console.page
    console.sign_in(server.admin)
    console.go("#/humans")
    page.fill("#search-value", human["email"].upper())  # case aside
    page.click("#search button[type=submit]")
    found = page.locator("#search-results a.found")
    expect(found).to_have_text(f"Cleon the First <{human['email']}>")
    console.shot("humans-search")
    found.click()
    expect(page.locator("#state [data-field=name]")).to_have_text("Cleon the First")
    expect(page.locator("#state [data-field=status]")).to_have_text("member")
    expect(page.locator("#timeline li")).to_have_count(3)
    expect(page.locator("#timeline li").nth(1)).to_contain_text("HUMAN_JOINED")
    expect(page.locator("#memberships .membership")).to_have_count(1)
    expect(page.locator("#memberships")).to_contain_text("emperor")
    expect(page.locator(f"#attendance .day.attended[data-day='{today}']")).to_have_count(1)
    expect(page.locator("#attendance .day.attended")).to_have_count(1)
    console.shot("human")

    console.go("#/humans")
    page.fill("#search-value", new_email())
    page.click("#search button[type=submit]")
    expect(page.locator("#search-results")).to_have_text("No one.")


def test_time_travel_shows_an_earlier_state(console: Console, server: Server) -> None:
    human = register(server, name="Salvor Hardin")
    post(server, f"/humans/{human['id']}/join", {"on": "2026-01-05", "role": "mayor"})
    post(server, f"/humans/{human['id']}/leave", {"on": "2026-02-01"})
    page = console.page
    console.sign_in(server.admin)
    console.go(f"#/humans/{human['id']}")
    expect(page.locator("#state [data-field=status]")).to_have_text("former")
    # The registration's instant, from its place in the timeline: as recorded then.
    page.locator("#timeline li").nth(0).locator("button").click()
    then = page.locator("#as-of-state")
    expect(then.locator("[data-field=status]")).to_have_text("registered")
    expect(then.locator("[data-field=memberships]")).to_have_text("—")
    # The join's: a member then.
    page.locator("#timeline li").nth(1).locator("button").click()
    expect(then.locator("[data-field=status]")).to_have_text("member")
    expect(then.locator("[data-field=memberships]")).to_have_text("mayor 2026-01-05 → now")
    console.shot("time-travel")
    # An instant typed in the picker, before the human existed: the API's problem.
    page.fill("#as-of", "2001-01-01T00:00:00.000")
    page.click("#travel button[type=submit]")
    expect(then.locator(".problem-title")).to_have_text("Human not found")


def test_a_forgotten_human_reads_forgotten(console: Console, server: Server) -> None:
    human = register(server, name="Ebling Mis")
    page = console.page
    console.sign_in(server.admin)
    console.go(f"#/humans/{human['id']}")
    expect(page.locator("#state [data-field=name]")).to_have_text("Ebling Mis")
    page.click("#forget button[type=submit]")
    dialog = page.locator("#confirm")
    expect(dialog).to_be_visible()
    ok = page.locator("#confirm-ok")
    expect(ok).to_be_disabled()  # until the human's id is typed
    page.fill("#confirm-typed", human["id"][:-1])
    expect(ok).to_be_disabled()
    page.fill("#confirm-typed", human["id"])
    console.shot("forget-confirm")
    ok.click()
    expect(page.locator("#forget .done")).to_be_visible()
    expect(page.locator("#state [data-field=name]")).to_have_text("(forgotten)")
    expect(page.locator("#state [data-field=email]")).to_have_text("(forgotten)")
    console.shot("forgotten")
    with server.api() as api:
        assert api.get(f"/humans/{human['id']}").json()["name"] == "(forgotten)"


def test_a_read_token_sees_personal_masked_and_no_command(console: Console, server: Server) -> None:
    human = register(server, name="Bel Riose")
    page = console.page
    console.sign_in(server.read)
    expect(page.locator("#who")).to_contain_text("(read)")
    console.go(f"#/humans/{human['id']}")
    expect(page.locator("#state [data-field=name]")).to_have_text("(personal)")
    expect(page.locator("#state [data-field=email]")).to_have_text("(personal)")
    expect(page.locator("#timeline li")).to_have_count(1)
    expect(page.locator("#commands")).to_have_count(0)
    expect(page.locator("button", has_text=re.compile("Join|Leave|Attend|Forget"))).to_have_count(0)
    console.shot("human-read-token")
    console.go("#/humans")
    expect(page.locator("#search")).to_be_visible()
    expect(page.locator("#register")).to_have_count(0)
    console.shot("humans-read-token")


def test_a_refused_command_shows_its_problem(console: Console, server: Server) -> None:
    human = register(server, name="Hober Mallow")
    post(server, f"/humans/{human['id']}/join", {"on": "2026-01-05", "role": "trader"})
    page = console.page
    console.sign_in(server.writer)  # write, not admin: commands, but not forget
    console.go(f"#/humans/{human['id']}")
    expect(page.locator("#join")).to_be_visible()
    expect(page.locator("#forget")).to_have_count(0)
    # Cancelled: nothing is sent.
    page.click("#join button[type=submit]")
    page.click("#confirm-cancel")
    expect(page.locator("#confirm")).to_be_hidden()
    # Confirmed: the API refuses it (already a member), and the page says why.
    page.click("#join button[type=submit]")
    expect(page.locator("#confirm-text")).to_contain_text("joined on")
    page.click("#confirm-ok")
    expect(page.locator("#join .problem-title")).to_have_text("Already member")
    expect(page.locator("#join .problem-detail")).to_contain_text("already")
    console.shot("refused-command")
    with server.api() as api:
        events = api.get(f"/humans/{human['id']}/events").json()["events"]
    assert [e["name"] for e in events] == ["HUMAN_REGISTERED", "HUMAN_JOINED"]


def test_register_through_the_console(console: Console, server: Server) -> None:
    email = new_email()
    page = console.page
    console.sign_in(server.writer)
    console.go("#/humans")
    page.fill("#register [name=name]", "Arkady Darell")
    page.fill("#register [name=email]", email)
    page.select_option("#register [name=kind]", "intern")
    page.click("#register button[type=submit]")
    expect(page.locator("#confirm-text")).to_have_text(
        f"Register Arkady Darell <{email}> as intern?"
    )
    page.click("#confirm-ok")
    expect(page.locator("#state [data-field=name]")).to_have_text("Arkady Darell")
    human_id = page.locator("#human-id").text_content()
    with server.api() as api:
        found = api.get("/humans", params={"email": email}).json()["humans"]
    assert [h["id"] for h in found] == [human_id]
    assert found[0]["kind"] == "intern"


def test_catalog_and_operations(console: Console, server: Server) -> None:
    page = console.page
    console.sign_in(server.read)
    console.go("#/catalog")
    registered = page.locator("#catalog tr[data-name=HUMAN_REGISTERED]")
    expect(registered).to_contain_text("— (built-in)")
    expect(registered.locator(".badge.personal")).to_have_text(["name", "email"])
    expect(registered.locator("code")).to_have_text(re.compile(r":events:HUMAN_REGISTERED$"))
    expect(page.locator("#asyncapi")).to_have_attribute("href", "/catalog/asyncapi.json")
    console.shot("catalog")

    console.go("#/operations")
    expect(page.locator("#health-status")).to_have_text("ready")
    expect(page.locator("#projections tr[data-projection]")).to_have_count(2)
    # Charts from /metrics: the throughput needs two samples; events posted between.
    register(server)
    expect(page.locator("#charts figure")).to_have_count(5)
    register(server)
    throughput = page.locator("#charts figure", has_text="relay throughput")
    expect(throughput.locator("polyline")).to_have_attribute("points", re.compile(r"\d+,\d+"))
    console.shot("operations")


def test_no_request_leaves_localhost(console: Console, server: Server) -> None:
    """Every page, visited with every kind of token: the browser asks only the server
    under test (the fixture checks the requests of every test; this one sees them all)."""
    human = register(server)
    page = console.page
    console.sign_in(server.admin)
    for fragment in ("#/feed", "#/humans", f"#/humans/{human['id']}", "#/catalog", "#/operations"):
        console.go(fragment)
        page.wait_for_timeout(1000)  # what the page fetches (the feed's stream never ends)
    assert len(console.requests) > 10
    assert {r.split("/")[2] for r in console.requests} == {server.url.split("/")[2]}
    assert console.foreign_requests() == []
