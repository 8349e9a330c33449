"""A human's state as a reader without the ``personal`` scope sees it.

An event's representation, and how its personal fields are masked, is the read
contract's: ``hot_follow.representation``.
"""

from __future__ import annotations

import dataclasses

from hot.application.views import HumanView
from hot_follow.representation import MASKED


def masked_human(human: HumanView) -> HumanView:
    """The human's state as a reader without the ``personal`` scope sees it."""
    external_ids = dict.fromkeys(human.external_ids, MASKED)  # the schemes are not personal
    return dataclasses.replace(human, name=MASKED, email=MASKED, external_ids=external_ids)
