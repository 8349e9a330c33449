"""The rows a new-event notification carries, as the relay and a commit listener take them."""

from __future__ import annotations

import base64
import json
from uuid import UUID

from hot.application.decoding import Row
from hot.infra.notices import NO_STATE, noticed_rows

A = UUID("6eee6781-f4d9-429f-97c9-a3b06c5b50a9")
STATE = b'{"timestamp": "x"}' * 10


def _payload(*positions: int) -> str:
    # As PostgreSQL writes base64: a line break every 76 characters.
    text = base64.encodebytes(STATE).decode()
    return json.dumps([[p, str(A), p, "HUMAN_JOINED", text] for p in positions])


def test_rows_after_what_was_read_in_log_order() -> None:
    rows = noticed_rows([_payload(3, 4), _payload(7)], 3, 10)

    assert rows == [Row(4, A, 4, "HUMAN_JOINED", STATE), Row(7, A, 7, "HUMAN_JOINED", STATE)]


def test_a_notification_without_rows_means_reading_the_log() -> None:
    assert noticed_rows([_payload(3), ""], 0, 10) is None


def test_more_rows_than_a_batch_or_out_of_order_mean_reading_the_log() -> None:
    assert noticed_rows([_payload(1, 2), _payload(3)], 0, 2) is None
    assert noticed_rows([_payload(5), _payload(4)], 0, 10) is None
    assert noticed_rows([], 0, 10) == []


def _heads(*positions: int) -> str:
    """A notification of rows too large to carry: which aggregates moved, no states."""
    return json.dumps([[p, str(A), p, "HUMAN_JOINED"] for p in positions])


def test_rows_without_their_states_mean_reading_the_log_for_the_relay() -> None:
    assert noticed_rows([_payload(1), _heads(2, 3)], 0, 10) is None


def test_rows_without_their_states_are_enough_for_who_asks_which_aggregates_moved() -> None:
    rows = noticed_rows([_heads(2, 3)], 2, 10, states=False)

    assert rows == [Row(3, A, 3, "HUMAN_JOINED", NO_STATE)]
