"""External ids: a human's ids in named schemes, checked, recorded only when they change,
kept sealed in snapshots, and gone with the forgetting.

Uniqueness within a scheme is the application's rule (it needs every human's claim); it
is tested over HTTP in ``tests/api/test_lookups.py``.
"""

from __future__ import annotations

from typing import cast
from uuid import UUID, uuid4

import pytest

from hot.application.personal import PersonalDataMapper, PersonalKeyStore
from hot.application.transcodings import states_transcoder
from hot.domain import (
    FORGOTTEN,
    EmailClaim,
    ExternalIdClaim,
    Human,
    HumanForgottenError,
    InvalidDetailsError,
    NothingChangedError,
)
from tests.unit.steps import (
    HUMAN_ID,
    external_id_set,
    given,
    registered,
    then_events,
    then_rejected,
)

SECRET = b"a claim secret of the tests"


def test_an_external_id_is_recorded_trimmed() -> None:
    human = given(registered())

    human.set_external_id("ecode", " E123 ")

    assert then_events(human) == [external_id_set("ecode", "E123")]
    assert human.external_ids == {"ecode": "E123"}


def test_a_new_value_replaces_the_old_one_in_its_scheme_only() -> None:
    human = given(registered(), external_id_set("ecode", "E123"), external_id_set("github", "ann"))

    human.set_external_id("ecode", "E456")

    assert then_events(human) == [external_id_set("ecode", "E456")]
    assert human.external_ids == {"ecode": "E456", "github": "ann"}


def test_setting_the_value_held_is_refused_as_nothing_changed() -> None:
    human = given(registered(), external_id_set("ecode", "E123"))

    then_rejected(human, NothingChangedError, lambda h: h.set_external_id("ecode", " E123 "))


def test_values_are_compared_exactly() -> None:
    human = given(registered(), external_id_set("ecode", "E123"))

    human.set_external_id("ecode", "e123")

    assert then_events(human) == [external_id_set("ecode", "e123")]


@pytest.mark.parametrize(
    "scheme", ["", "Ecode", "1code", "e code", "e.code", "é", "e" * 33, "ecode\n", "-ecode"]
)
def test_a_scheme_not_of_lowercase_letters_digits_and_dashes_is_refused(scheme: str) -> None:
    human = given(registered())

    error = then_rejected(human, InvalidDetailsError, lambda h: h.set_external_id(scheme, "E1"))

    assert cast(InvalidDetailsError, error).field == "scheme"


def test_the_longest_scheme_and_value_are_accepted() -> None:
    human = given(registered())

    human.set_external_id("e" + "_-0" * 10 + "z", "v" * 128)

    assert len(then_events(human)) == 1


@pytest.mark.parametrize("value", ["", "   ", "E\x00123", "E\n123", "E\x7f", "v" * 129])
def test_a_blank_long_or_control_character_value_is_refused(value: str) -> None:
    human = given(registered())

    error = then_rejected(human, InvalidDetailsError, lambda h: h.set_external_id("ecode", value))

    assert cast(InvalidDetailsError, error).field == "value"


def test_a_bad_scheme_and_a_bad_value_are_named_together() -> None:
    human = given(registered())

    error = then_rejected(human, InvalidDetailsError, lambda h: h.set_external_id("E", ""))

    assert [field for field, _ in cast(InvalidDetailsError, error).problems] == ["scheme", "value"]


def test_a_forgotten_human_has_no_external_ids_and_takes_none() -> None:
    human = given(registered(), external_id_set("ecode", "E123"), (Human.Forgotten, {"by": "dpo"}))

    assert human.external_ids == {}
    then_rejected(human, HumanForgottenError, lambda h: h.set_external_id("ecode", "E9"))


def test_the_value_is_personal_and_the_scheme_is_not() -> None:
    assert Human.ExternalIdSet.PERSONAL_FIELDS == ("value",)
    assert "external_ids" in Human.PERSONAL_STATE


# Claims -------------------------------------------------------------------------------------


def test_an_external_id_claim_is_keyed_by_scheme_and_value_with_the_secret() -> None:
    ids = {
        ExternalIdClaim.id_for("ecode", "E123", SECRET),
        ExternalIdClaim.id_for("ecode", "E124", SECRET),
        ExternalIdClaim.id_for("badge", "E123", SECRET),
        ExternalIdClaim.id_for("ecode", "E123", b"another secret"),
        EmailClaim.id_for("E123", SECRET),
    }

    assert len(ids) == 5
    assert ExternalIdClaim.id_for("ecode", "E123", SECRET) == ExternalIdClaim.id_for(
        "ecode", "E123", SECRET
    )


def test_an_external_id_claim_is_taken_released_and_taken_again() -> None:
    first, second = uuid4(), uuid4()
    claim = ExternalIdClaim.claim("ecode", "E123", first, SECRET)

    claim.release()
    released = claim.is_held
    claim.reclaim(second)

    assert (released, claim.holder) == (False, second)
    topics = [type(e).TOPIC for e in claim.collect_events()]  # type: ignore[attr-defined]
    assert topics == [
        "hot:EXTERNAL_ID_CLAIMED",
        "hot:EXTERNAL_ID_RELEASED",
        "hot:EXTERNAL_ID_RECLAIMED",
    ]


def test_email_claims_keep_their_stored_topics() -> None:
    claim = EmailClaim.claim("Ann@Example.org", uuid4(), SECRET)
    claim.release()

    assert EmailClaim.TOPIC == "hot:EmailClaim"
    topics = [type(e).TOPIC for e in claim.collect_events()]  # type: ignore[attr-defined]
    assert topics == ["hot:EMAIL_CLAIMED", "hot:EMAIL_RELEASED"]
    assert claim.id == EmailClaim.id_for(" ann@example.ORG", SECRET)


# Snapshots ----------------------------------------------------------------------------------


class _Keys:
    """One human's key, destroyed on demand: what the mapper needs of a key store."""

    def __init__(self) -> None:
        self.key: bytes | None = bytes(range(32))

    def key_for_writing(self, human_id: UUID, *, create: bool) -> bytes | None:
        return self.key

    def key_for_reading(self, human_id: UUID) -> bytes | None:
        return self.key

    def forget_cached(self, human_id: UUID) -> None:
        pass


@pytest.fixture
def keys() -> _Keys:
    return _Keys()


@pytest.fixture
def mapper(keys: _Keys) -> PersonalDataMapper:
    return PersonalDataMapper(states_transcoder(), cast(PersonalKeyStore, keys))


def test_a_snapshot_seals_the_external_ids_and_restores_them(mapper: PersonalDataMapper) -> None:
    human = given(registered(), external_id_set("ecode", "E-secret-123"))

    stored = mapper.to_stored_event(Human.Snapshot.take(human))
    restored = mapper.to_domain_event(stored).mutate(None)

    assert b"E-secret-123" not in stored.state
    assert (restored.id, restored.external_ids) == (HUMAN_ID, {"ecode": "E-secret-123"})


def test_a_snapshot_whose_key_is_destroyed_has_no_external_ids(
    mapper: PersonalDataMapper, keys: _Keys
) -> None:
    human = given(registered(), external_id_set("ecode", "E-secret-123"))
    stored = mapper.to_stored_event(Human.Snapshot.take(human))

    keys.key = None
    restored = mapper.to_domain_event(stored).mutate(None)

    assert (restored.name, restored.email, restored.external_ids) == (FORGOTTEN, FORGOTTEN, {})


def test_a_snapshot_from_before_external_ids_is_upcast_to_none() -> None:
    snapshot = Human.Snapshot.take(given(registered()))
    state = dict(snapshot.state)
    assert state.pop("class_version") == 2
    state.pop("external_ids")
    old = Human.Snapshot(
        originator_id=snapshot.originator_id,
        originator_version=snapshot.originator_version,
        timestamp=snapshot.timestamp,
        topic=snapshot.topic,
        state=state,
    )

    restored = old.mutate(None)

    assert restored.external_ids == {}
    assert restored.name == "Ann Example"
