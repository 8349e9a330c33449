"""The relay: every public event of the PostgreSQL log into Redis streams, exactly once.

``Relay`` is the running part; ``build_relay`` makes one from HoT's composition root.
The modules: ``streams`` (keys, entry encoding), ``publisher`` (the atomic publish),
``source`` (reading the log), ``retention``, ``repair`` (per-name streams behind),
``leader`` (one active relay) and ``status``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hot.infra.relay.relay import Relay
from hot.infra.relay.status import RelayStatus, StreamsReport, inspect_streams
from hot_follow.streams import StreamKeys, entry_fields, entry_id, event_from_entry

if TYPE_CHECKING:
    from hot.infra.bootstrap import Hot


def build_relay(hot: Hot) -> Relay:
    """The relay for HoT's database, Redis, key prefix, stream retention and personal data
    (on ``hot``'s Redis client, which ``hot`` closes)."""
    if hot.redis is None:
        raise RuntimeError("This HoT was built without Redis.")
    return Relay(
        hot.app,
        hot.redis,
        hot.database_url,
        prefix=hot.settings.redis_prefix,
        retention=hot.settings.stream_retention,
        personal=hot.settings.stream_personal,
        meter=hot.metrics.relay if hot.metrics is not None else None,
        tracer=hot.tracing.tracer if hot.tracing is not None else None,
    )


__all__ = [
    "Relay",
    "RelayStatus",
    "StreamKeys",
    "StreamsReport",
    "build_relay",
    "entry_fields",
    "entry_id",
    "event_from_entry",
    "inspect_streams",
]
