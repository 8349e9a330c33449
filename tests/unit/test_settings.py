"""Settings: read once from the environment, with defaults, and a named error for bad values."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from hot.cli import main
from hot.infra.settings import Settings, SettingsError


def test_an_empty_environment_gives_the_defaults() -> None:
    settings = Settings.from_env({})

    assert settings == Settings(
        database_url=None,
        redis_url=None,
        data_dir=Path(".hot"),
        host="127.0.0.1",
        port=8000,
        workers=1,
        timezone="UTC",
        redis_prefix="hot",
    )


@pytest.mark.parametrize(
    ("variable", "value", "field", "expected"),
    [
        (
            "HOT_DATABASE_URL",
            "postgresql://u:p@db:5432/hot",
            "database_url",
            "postgresql://u:p@db:5432/hot",
        ),
        ("HOT_DATABASE_URL", "postgres://db/hot", "database_url", "postgres://db/hot"),
        ("HOT_REDIS_URL", "redis://cache:6379/2", "redis_url", "redis://cache:6379/2"),
        ("HOT_REDIS_URL", "rediss://cache:6380/0", "redis_url", "rediss://cache:6380/0"),
        ("HOT_REDIS_URL", "unix:///run/redis.sock", "redis_url", "unix:///run/redis.sock"),
        ("HOT_DATA_DIR", "/var/lib/hot", "data_dir", Path("/var/lib/hot")),
        ("HOT_HOST", "0.0.0.0", "host", "0.0.0.0"),
        ("HOT_PORT", "9090", "port", 9090),
        ("HOT_WORKERS", "4", "workers", 4),
        ("HOT_TIMEZONE", "Europe/Paris", "timezone", "Europe/Paris"),
        ("HOT_REDIS_PREFIX", "trantor", "redis_prefix", "trantor"),
        ("HOT_REDIS_PREFIX", "{hot}", "redis_prefix", "{hot}"),
        ("HOT_REPLICA_MAX_LAG", "50", "replica_max_lag", 50),
    ],
)
def test_each_variable_sets_its_setting_and_only_that(
    variable: str, value: str, field: str, expected: object
) -> None:
    settings = Settings.from_env({variable: value})

    assert getattr(settings, field) == expected
    defaults = vars(Settings.from_env({}))
    others = {k: v for k, v in vars(settings).items() if k != field}
    assert others == {k: v for k, v in defaults.items() if k != field}


@pytest.mark.parametrize(
    "variable",
    ["HOT_DATABASE_URL", "HOT_REDIS_URL", "HOT_DATA_DIR", "HOT_PORT", "HOT_TIMEZONE"],
)
def test_an_empty_variable_means_its_default(variable: str) -> None:
    assert Settings.from_env({variable: ""}) == Settings.from_env({})


def test_settings_are_read_from_the_process_environment_by_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HOT_PORT", "8123")
    monkeypatch.setenv("HOT_TIMEZONE", "Asia/Tokyo")

    settings = Settings.from_env()

    assert (settings.port, settings.timezone) == (8123, "Asia/Tokyo")


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HOT_PORT", "eighty", "HOT_PORT must be a whole number, not 'eighty'"),
        ("HOT_PORT", "80.5", "HOT_PORT must be a whole number"),
        ("HOT_PORT", "0", "HOT_PORT must be at least 1, not 0"),
        ("HOT_WORKERS", "-2", "HOT_WORKERS must be at least 1, not -2"),
        ("HOT_WORKERS", "many", "HOT_WORKERS must be a whole number"),
        ("HOT_DATABASE_URL", "mysql://db/hot", "HOT_DATABASE_URL must be a postgresql:// URL"),
        ("HOT_REDIS_URL", "http://cache:6379", "HOT_REDIS_URL must be a redis://"),
        ("HOT_TIMEZONE", "Mars/Olympus_Mons", "HOT_TIMEZONE 'Mars/Olympus_Mons' is not a known"),
        ("HOT_TIMEZONE", "../etc/passwd", "HOT_TIMEZONE '../etc/passwd' is not a known"),
        ("HOT_REPLICA_MAX_LAG", "lots", "HOT_REPLICA_MAX_LAG must be a whole number"),
    ],
)
def test_a_bad_value_is_a_settings_error_naming_the_variable(
    variable: str, value: str, message: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})

    assert str(raised.value).startswith(message)
    assert isinstance(raised.value, ValueError)
    assert raised.value.__cause__ is None


CLUSTER = {"HOT_REDIS_URL": "redis://node-1:7000", "HOT_REDIS_CLUSTER": "on"}


@pytest.mark.parametrize("prefix", ["{hot}", "{trantor}:hot", "prod{hot}", "{h}"])
def test_a_cluster_takes_a_prefix_with_a_hash_tag(prefix: str) -> None:
    settings = Settings.from_env({**CLUSTER, "HOT_REDIS_PREFIX": prefix})

    assert settings.redis_cluster
    assert (settings.redis_url, settings.redis_prefix) == ("redis://node-1:7000", prefix)


@pytest.mark.parametrize("prefix", ["", "hot", "{}hot", "hot}{", "{hot"])
def test_a_cluster_refuses_a_prefix_without_a_hash_tag_and_says_how(prefix: str) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({**CLUSTER, "HOT_REDIS_PREFIX": prefix})

    message = str(raised.value)
    assert message.startswith("HOT_REDIS_PREFIX: the key prefix")
    assert "has no hash tag" in message
    assert "'{" in message  # the prefix in braces, as an example
    assert "HOT_REDIS_CLUSTER=on" in message
    # Without a cluster, the same prefix is taken.
    plain = Settings.from_env({"HOT_REDIS_URL": "redis://cache:6379", "HOT_REDIS_PREFIX": prefix})
    assert not plain.redis_cluster


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"HOT_REDIS_CLUSTER": "on"}, "HOT_REDIS_CLUSTER=on needs HOT_REDIS_URL"),
        ({**CLUSTER, "HOT_REDIS_URL": "unix:///run/redis.sock"}, "must be a redis:// or"),
        ({**CLUSTER, "HOT_REDIS_URL": "redis://node-1:7000/2"}, "with database 0"),
        ({**CLUSTER, "HOT_REDIS_CLUSTER": "maybe"}, "HOT_REDIS_CLUSTER must be on or off"),
    ],
)
def test_a_cluster_needs_a_node_s_url_with_database_0(env: dict[str, str], says: str) -> None:
    with pytest.raises(SettingsError, match=says):
        Settings.from_env({**env, "HOT_REDIS_PREFIX": "{hot}"})


@pytest.mark.parametrize("command", [["serve"], ["relay"], ["tail"]])
def test_a_prefix_without_a_hash_tag_stops_hot_at_start_up_on_a_cluster(
    command: list[str], tmp_path: Path
) -> None:
    env = {
        **CLUSTER,
        "HOT_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/none",  # never reached
        "HOT_DATA_DIR": str(tmp_path),
        "HOT_REDIS_PREFIX": "hot",
    }
    refused = CliRunner().invoke(main, command, env=env)

    assert refused.exit_code == 1, refused.output
    assert refused.output.startswith("hot: HOT_REDIS_PREFIX: the key prefix 'hot' has no hash")
    assert "'{hot}'" in refused.output


def test_read_urls_are_a_comma_separated_list_of_replicas_of_the_primary() -> None:
    settings = Settings.from_env(
        {
            "HOT_DATABASE_URL": "postgresql://db/hot",
            "HOT_DATABASE_READ_URL": " postgresql://r1/hot, postgres://r2:5433/hot ,",
        }
    )

    assert settings.database_read_urls == ("postgresql://r1/hot", "postgres://r2:5433/hot")
    assert Settings.from_env({}).database_read_urls == ()


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"HOT_DATABASE_URL": "postgresql://db/hot", "HOT_DATABASE_READ_URL": "mysql://r/hot"},
            "HOT_DATABASE_READ_URL must be postgresql:// URLs, separated by commas.",
        ),
        (
            {"HOT_DATABASE_READ_URL": "postgresql://r/hot"},
            "HOT_DATABASE_READ_URL needs HOT_DATABASE_URL (its primary).",
        ),
    ],
)
def test_bad_read_urls_are_a_settings_error(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=re.escape(message)):
        Settings.from_env(env)
