"""Personal data on real PostgreSQL: sealed at rest, forgotten for good, loss reported."""

from __future__ import annotations

import base64
import re
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from uuid import UUID

import psycopg
import pytest

from hot.application import HumansApplication
from hot.application.personal import PersonalKeyMissingError
from hot.domain import FORGOTTEN, HumanForgottenError, HumanKind
from tests.blocking import blocking_application
from tests.plaintext import plaintext_anywhere
from tests.waiting import wait_until

pytestmark = pytest.mark.postgres

NAME, EMAIL, REASON = "Gaal Dornick", "gaal.dornick@synnax.test", "exiled to Terminus"
ECODE = "E-streeling-0042"  # an external id: personal data too


def full_life(app: HumansApplication) -> UUID:
    human = app.register(NAME, EMAIL, HumanKind.EMPLOYEE).id
    app.join(human, date(2020, 1, 1), "mathematician")
    for d in range(3):
        app.attend(human, date(2020, 1, 2) + timedelta(days=d))
    app.leave(human, date(2020, 2, 1), REASON)
    app.join(human, date(2020, 3, 1), "psychohistorian")
    app.change_details(human, name="Gaal D.", email="gaal@terminus.test")
    app.set_external_id(human, "ecode", ECODE)
    return human


def test_personal_fields_never_reach_the_database_in_clear(
    app: HumansApplication, database_url: str
) -> None:
    human = full_life(app)

    assert plaintext_anywhere(database_url, "Gaal", "synnax", "terminus", REASON, ECODE) == []
    assert app.get_human(human).name == "Gaal D."
    assert app.get_human(human).external_ids == {"ecode": ECODE}
    assert app.history(human)[0].payload["email"] == EMAIL


def test_snapshots_are_sealed_too(app: HumansApplication, database_url: str) -> None:
    human = full_life(app)
    for d in range(100):
        app.attend(human, date(2020, 3, 2) + timedelta(days=d))

    assert app.snapshots is not None
    snapshots = app.snapshots
    wait_until(lambda: len(list(snapshots.get(human))) == 1, 10, "the snapshot written")
    assert plaintext_anywhere(database_url, "Gaal", "synnax", "terminus", ECODE) == []
    reloaded = blocking_application(database_url).get_human(human)  # from the snapshot
    assert (reloaded.name, reloaded.external_ids) == ("Gaal D.", {"ecode": ECODE})


def test_a_forgotten_human_reads_as_forgotten_everywhere_and_keeps_the_facts(
    app: HumansApplication, database_url: str
) -> None:
    human = full_life(app)
    before = app.get_human(human)

    app.forget(human, by="ops")
    other_process = blocking_application(database_url)

    for reader in (app, other_process):
        after = reader.get_human(human)
        assert (after.name, after.email, after.external_ids) == (FORGOTTEN, FORGOTTEN, {})
        assert (after.memberships, after.attended_days, after.kind) == (
            before.memberships,
            before.attended_days,
            before.kind,
        )
        history = reader.history(human)
        assert history[0].payload == {"name": FORGOTTEN, "email": FORGOTTEN, "kind": "employee"}
        assert history[-1].name == "HUMAN_FORGOTTEN"
        assert history[-1].payload == {"by": "ops"}
        assert history[-2].payload == {"scheme": "ecode", "value": FORGOTTEN}
        log = reader.read_log(limit=100).events
        assert all("Gaal" not in str(e.payload) for e in log)
    assert plaintext_anywhere(database_url, "Gaal", "synnax", "terminus", REASON, ECODE) == []
    other_process.close()


def test_a_forgotten_human_accepts_no_command_and_frees_the_email(app: HumansApplication) -> None:
    human = full_life(app)
    app.forget(human, by="ops")
    head = app.head()

    with pytest.raises(HumanForgottenError):
        app.attend(human, date(2020, 3, 5))
    with pytest.raises(HumanForgottenError):
        app.forget(human, by="ops")
    assert app.head() == head
    assert app.register("Another", "gaal@terminus.test", HumanKind.VISITOR).version == 1


def test_forgetting_races_commands_on_the_same_human(
    app: HumansApplication, database_url: str
) -> None:
    human = full_life(app)
    other = blocking_application(database_url)

    def attend(d: int) -> str:
        try:
            other.attend(human, date(2020, 3, 2) + timedelta(days=d))
        except HumanForgottenError:
            return "refused"
        return "recorded"

    with ThreadPoolExecutor(4) as pool:
        outcomes = pool.map(attend, range(40))
        app.forget(human, by="ops")
        outcomes_list = list(outcomes)

    names = [e.name for e in app.history(human, limit=1000)]
    assert names.count("HUMAN_FORGOTTEN") == 1
    after_forgetting = names[names.index("HUMAN_FORGOTTEN") + 1 :]
    assert after_forgetting == []
    assert names.count("HUMAN_ATTENDED") == 3 + outcomes_list.count("recorded")
    assert plaintext_anywhere(database_url, "Gaal", "synnax", "terminus") == []
    other.close()


def test_a_lost_key_table_is_reported_not_served_as_garbage(
    app: HumansApplication, database_url: str
) -> None:
    human = full_life(app)
    with psycopg.connect(database_url) as conn:
        conn.execute("DELETE FROM hot_personal_keys WHERE human_id = %s", (human,))
    reader = blocking_application(database_url)

    with pytest.raises(PersonalKeyMissingError, match="missing"):
        reader.history(human)
    reader.close()


def test_the_email_claim_does_not_derive_from_the_email_alone(
    app: HumansApplication, database_url: str
) -> None:
    import uuid

    app.register(NAME, EMAIL, HumanKind.EMPLOYEE)
    with psycopg.connect(database_url) as conn:
        claim_ids = {
            row[0]
            for row in conn.execute(
                "SELECT originator_id FROM hot_events WHERE topic = 'hot:EMAIL_CLAIMED'"
            )
        }
    guessable = {uuid.uuid5(ns, EMAIL) for ns in (uuid.NAMESPACE_DNS, uuid.NAMESPACE_URL)}
    assert len(claim_ids) == 1
    assert not claim_ids & guessable


def test_a_follower_reading_a_forgetting_stops_serving_the_key_at_once(
    app: HumansApplication, database_url: str
) -> None:
    from hot.application.decoding import EventDecoder, Row

    human = full_life(app)
    reader = blocking_application(database_url)
    decoder = EventDecoder(personal_keys=reader.personal_keys)
    assert reader.personal_keys.key_for_reading(human)  # the reader now has the key cached
    app.forget(human, by="ops")

    with psycopg.connect(database_url) as conn:
        rows = conn.execute(
            "SELECT notification_id, originator_id, originator_version, topic, state "
            "FROM hot_events WHERE originator_id = %s ORDER BY originator_version",
            (human,),
        ).fetchall()
    assert decoder.decode([Row(*r) for r in rows])[-1].name == "HUMAN_FORGOTTEN"
    again = decoder.decode([Row(*rows[0])])  # within the key cache's lifetime

    assert again[0].payload["name"] == FORGOTTEN
    reader.close()


def test_no_two_seals_share_a_nonce(app: HumansApplication, database_url: str) -> None:
    """Nonces are drawn from the OS many at a time: each is still used once, also when the
    same value is sealed again for the same human, across more than one draw."""
    human = app.register(NAME, EMAIL, HumanKind.EMPLOYEE).id
    for n in range(300):  # over one draw of nonces
        app.change_details(human, name=f"{NAME} {n % 2}")

    with psycopg.connect(database_url) as conn:
        states = [s for (s,) in conn.execute("SELECT state FROM hot_events")]
    sealed = [
        base64.b64decode(blob)
        for state in states
        for blob in re.findall(rb'"sealed":"([A-Za-z0-9+/=]+)"', bytes(state))
    ]
    nonces = [blob[:12] for blob in sealed]
    assert len(nonces) >= 301
    assert len(set(nonces)) == len(nonces)
