"""Bringing per-name streams that fell behind the all-events stream up to it.

Every batch goes into the all-events stream and the streams of its names in one
atomic step, so a name's stream falls behind only when its key alone was lost (a
deletion, a partial restore). On every start the relay looks, and adds what is
missing, as far back as the retention window reaches. It reads the ``HUMAN_FORGOTTEN``
events of that range too: their publish deletes again the forgotten humans' entries
it has just added back.
"""

from __future__ import annotations

import logging

from hot.infra.relay.publisher import FORGETTING, StreamPublisher, Trim
from hot.infra.relay.source import EventLog

log = logging.getLogger(__name__)
NO_TRIM = Trim("")  # trimming waits for the next regular publish


def fill_behind(
    events: EventLog, publisher: StreamPublisher, streams: dict[str, int], floor: int, batch: int
) -> None:
    """Add to each name's stream the events after ``floor`` it misses.

    ``streams`` holds every stream's last position, as ``last_positions`` reads them.
    """
    stream_keys = publisher.stream_keys
    stands = streams[stream_keys.all]
    behind: dict[str, int] = {}
    for name in stream_keys.names:
        has = max(streams[stream_keys.of(name)], floor)
        if has < stands and events.newest(names=[name], above=has, upto=stands):
            behind[name] = has
    if not behind:
        return
    log.warning("relay: filling the streams of %s up to %d", ", ".join(behind), stands)
    after = min(behind.values())
    names = list({*behind, FORGETTING})
    while found := events.read(after, batch, upto=stands, names=names):
        # The all-events stream already has these: the publish adds them to names only.
        if not publisher.publish(found, stands, NO_TRIM).accepted:
            return  # Redis lost data meanwhile: the relay's next publish plans again
        after = found[-1].position
