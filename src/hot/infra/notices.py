"""The rows a new-event notification carries, so that a listener need not read them.

HoT's recorder sends, with each transaction's ``NOTIFY``, the rows it inserted (see
``hot.infra.recorder.NOTICE_LIMIT``): a JSON array of ``[position, originator id,
version, topic, state in base64]``; when they would not fit, the same without their
states (``[position, originator id, version, topic]``), and when even that would not
fit (or another recorder wrote), nothing: the listener reads the log. The relay needs
the states; a process's commit listener only which aggregates moved on.

Notifications arrive in commit order, which the table lock makes log order, and every
committed transaction sends one. So a listener that has read the log up to ``after``
(everything committed before its read) and then takes every notification in turn
misses nothing: the rows of a notification at or below ``after`` it already has.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from uuid import UUID

from hot.application.decoding import Row

NO_STATE = b""  # a row noticed without its state (no stored state is empty)


def noticed_rows(
    payloads: Sequence[str], after: int, limit: int, *, states: bool = True
) -> list[Row] | None:
    """The rows after ``after`` that ``payloads`` carry, in log order; None if one of
    them carries no rows, or (``states``) rows without their states, or more than
    ``limit`` came, or they are out of log order (then the log is read instead)."""
    rows: list[Row] = []
    last = after
    for payload in payloads:
        if not payload:
            return None
        for position, originator_id, version, topic, *state in json.loads(payload):
            if states and not state:
                return None
            if position <= after:
                continue  # read already
            if position <= last:
                return None
            noticed = _bytes(state[0]) if state else NO_STATE
            rows.append(Row(position, UUID(originator_id), version, topic, noticed))
            last = position
        if len(rows) > limit:
            return None
    return rows


def _bytes(text: str) -> bytes:
    # PostgreSQL's base64 breaks lines every 76 characters; the decoder skips them.
    return base64.b64decode(text)
