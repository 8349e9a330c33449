"""HoT's settings, read once from the environment, in this one place."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hot.tuning import REPLICA_MAX_LAG
from hot_follow.redis_client import one_slot_problem


class SettingsError(ValueError):
    """An environment variable holds a value HoT cannot use."""


@dataclass(frozen=True)
class StreamRetention:
    """How much of the log the Redis streams keep: the last ``count`` events, or ``age``."""

    count: int | None = None
    age: timedelta | None = None


DEFAULT_STREAM_RETENTION = StreamRetention(count=100_000)


@dataclass(frozen=True)
class Settings:
    """Everything configurable. ``None`` URLs mean: start the embedded server."""

    database_url: str | None
    redis_url: str | None
    data_dir: Path
    host: str
    port: int
    workers: int
    timezone: str
    redis_prefix: str
    redis_cluster: bool = False  # redis_url names a node of a Redis Cluster
    stream_retention: StreamRetention = DEFAULT_STREAM_RETENTION
    cors_origins: tuple[str, ...] = ()
    api_key_cache_seconds: int = 5
    relay_in_serve: bool = True
    stream_personal: bool = False  # personal fields in the Redis streams: masked unless on
    write_through: bool = True  # a writer publishes what it commits, ahead of the relay
    sql_read: bool = True  # hot serve and hot relay keep hot_read in step (one at a time)
    metrics: bool = True  # Prometheus metrics: GET /metrics, or on metrics_port
    metrics_port: int | None = None  # their own port (None: the API's)
    log_format: str = "text"  # or "json": one object a line
    database_read_urls: tuple[str, ...] = ()  # replicas that serve queries (none: the primary)
    replica_max_lag: int = REPLICA_MAX_LAG  # events behind the primary a replica may be

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        settings = cls(
            database_url=env.get("HOT_DATABASE_URL") or None,
            redis_url=env.get("HOT_REDIS_URL") or None,
            data_dir=Path(env.get("HOT_DATA_DIR") or ".hot"),
            host=env.get("HOT_HOST") or "127.0.0.1",
            port=_int(env, "HOT_PORT", 8000),
            workers=_int(env, "HOT_WORKERS", 1),
            timezone=env.get("HOT_TIMEZONE") or "UTC",
            redis_prefix=env.get("HOT_REDIS_PREFIX") or "hot",
            redis_cluster=_switch(env, "HOT_REDIS_CLUSTER", False),
            stream_retention=_retention(env),
            cors_origins=tuple(
                o.strip() for o in env.get("HOT_CORS_ORIGINS", "").split(",") if o.strip()
            ),
            api_key_cache_seconds=_int(env, "HOT_API_KEY_CACHE_SECONDS", 5),
            relay_in_serve=_switch(env, "HOT_RELAY", True),
            stream_personal=_switch(env, "HOT_STREAM_PERSONAL", False),
            write_through=_switch(env, "HOT_STREAM_WRITE_THROUGH", True),
            sql_read=_switch(env, "HOT_SQL_READ", True),
            metrics=_switch(env, "HOT_METRICS", True),
            metrics_port=_int(env, "HOT_METRICS_PORT", 0) or None,
            log_format=log_format(env),
            database_read_urls=tuple(
                u.strip() for u in env.get("HOT_DATABASE_READ_URL", "").split(",") if u.strip()
            ),
            replica_max_lag=_int(env, "HOT_REPLICA_MAX_LAG", REPLICA_MAX_LAG),
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError("HOT_DATABASE_URL must be a postgresql:// URL.")
        for url in self.database_read_urls:
            if not url.startswith(("postgresql://", "postgres://")):
                raise SettingsError(
                    "HOT_DATABASE_READ_URL must be postgresql:// URLs, separated by commas."
                )
        if self.database_read_urls and not self.database_url:
            raise SettingsError("HOT_DATABASE_READ_URL needs HOT_DATABASE_URL (its primary).")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("HOT_REDIS_URL must be a redis://, rediss:// or unix:// URL.")
        if self.redis_cluster:
            self._validate_cluster()
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"HOT_TIMEZONE {self.timezone!r} is not a known time zone."
            ) from None

    def _validate_cluster(self) -> None:
        """A Redis Cluster is external, reached over TCP, database 0, and HoT's keys must
        all be in one of its slots."""
        if self.redis_url is None:
            raise SettingsError(
                "HOT_REDIS_CLUSTER=on needs HOT_REDIS_URL, the URL of a node of the cluster "
                "(the embedded Valkey is not a cluster)."
            )
        parts = urlsplit(self.redis_url)
        if parts.scheme == "unix" or parts.path.strip("/") not in ("", "0"):
            raise SettingsError(
                "With HOT_REDIS_CLUSTER=on, HOT_REDIS_URL must be a redis:// or rediss:// URL "
                "of a node, with database 0 (a cluster has no other)."
            )
        problem = one_slot_problem(self.redis_prefix)
        if problem is not None:
            raise SettingsError(f"HOT_REDIS_PREFIX: {problem} (HOT_REDIS_CLUSTER=on).")


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}.") from None
    if value < 1:
        raise SettingsError(f"{name} must be at least 1, not {value}.")
    return value


_AGE_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _retention(env: Mapping[str, str]) -> StreamRetention:
    """``HOT_STREAM_RETENTION``: a count of events (``100000``) or an age (``7d``, ``12h``)."""
    raw = (env.get("HOT_STREAM_RETENTION") or "").strip()
    if not raw:
        return DEFAULT_STREAM_RETENTION
    match = re.fullmatch(r"(\d+)([smhd]?)", raw)
    if match is None or int(match[1]) < 1:
        raise SettingsError(
            "HOT_STREAM_RETENTION must be a count of events (e.g. 100000) or an age "
            f"(e.g. 7d, 12h, 30m, 90s), at least 1, not {raw!r}."
        )
    amount, unit = int(match[1]), match[2]
    if not unit:
        return StreamRetention(count=amount)
    return StreamRetention(age=timedelta(**{_AGE_UNITS[unit]: amount}))


LOG_FORMATS = ("text", "json")


def log_format(environ: Mapping[str, str] | None = None) -> str:
    """``HOT_LOG_FORMAT``: ``text`` (readable, the default) or ``json``; read alone too, by
    the ``hot`` command before any other setting."""
    env = os.environ if environ is None else environ
    raw = (env.get("HOT_LOG_FORMAT") or "text").strip().lower()
    if raw not in LOG_FORMATS:
        raise SettingsError(f"HOT_LOG_FORMAT must be text or json, not {raw!r}.")
    return raw


def _switch(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    if not raw:
        return default
    if raw in {"on", "yes", "true", "1"}:
        return True
    if raw in {"off", "no", "false", "0"}:
        return False
    raise SettingsError(f"{name} must be on or off, not {raw!r}.")
