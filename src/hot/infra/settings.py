"""HoT's settings, read once from the environment, in this one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class SettingsError(ValueError):
    """An environment variable holds a value HoT cannot use."""


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
        )
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.database_url and not self.database_url.startswith(("postgresql://", "postgres://")):
            raise SettingsError("HOT_DATABASE_URL must be a postgresql:// URL.")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("HOT_REDIS_URL must be a redis://, rediss:// or unix:// URL.")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(
                f"HOT_TIMEZONE {self.timezone!r} is not a known time zone."
            ) from None


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
