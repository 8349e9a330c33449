"""The embedded Valkey keeps its port across restarts, so a follower configured with its
URL keeps working; when another process holds that port, it says where it is instead,
and ``hot info`` prints the URL in use."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from click.testing import CliRunner

from hot.cli import main
from hot.infra.embedded import EmbeddedRedis, running_url


def test_a_restarted_embedded_valkey_takes_its_port_again(tmp_path: Path) -> None:
    first = EmbeddedRedis(tmp_path)
    url = first.url
    first.stop()

    again = EmbeddedRedis(tmp_path)
    try:
        assert again.url == url
        assert running_url(tmp_path) == url
    finally:
        again.stop()
    assert running_url(tmp_path) is None


def test_when_its_port_is_taken_it_starts_elsewhere_and_says_where(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = EmbeddedRedis(tmp_path)
    port = int(first.url.rsplit(":", 1)[1])
    first.stop()
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        with caplog.at_level(logging.WARNING, logger="hot.infra.embedded"):
            moved = EmbeddedRedis(tmp_path)
        try:
            info = CliRunner().invoke(
                main,
                ["info"],
                env={"HOT_DATA_DIR": str(tmp_path), "HOT_DATABASE_URL": "postgresql://db/x"},
            )
        finally:
            moved.stop()

    assert moved.url != first.url
    assert f"port {port} is taken" in caplog.text
    assert moved.url in caplog.text
    assert info.exit_code == 0, info.output
    assert f"redis     {moved.url}  (embedded" in info.output


def test_info_prints_what_is_configured(tmp_path: Path) -> None:
    env = {
        "HOT_DATA_DIR": str(tmp_path),
        "HOT_DATABASE_URL": "postgresql://reader@db.trantor.example/hot",
        "HOT_REDIS_URL": "redis://streams.trantor.example:6379/0",
        "HOT_REDIS_PREFIX": "hr",
    }
    info = CliRunner().invoke(main, ["info"], env=env)

    assert info.exit_code == 0, info.output
    assert info.output.splitlines() == [
        "database  postgresql://reader@db.trantor.example/hot",
        "redis     redis://streams.trantor.example:6379/0",
        "streams   hr:events (every event), hr:events:<EVENT_NAME> (one name)",
    ]
