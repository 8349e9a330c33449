"""``hot keys`` and ``hot serve``: tokens from the command line, and a real server's first start."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
from click.testing import CliRunner

from hot.cli import main
from hot.infra.api_keys import ApiKeyStore, Scope
from tests.activity import wait_closed
from tests.serving import free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def env(database_url: str, tmp_path: Path) -> dict[str, str]:
    return {"HOT_DATABASE_URL": database_url, "HOT_DATA_DIR": str(tmp_path)}


def test_keys_create_list_revoke(env: dict[str, str], database_url: str) -> None:
    runner = CliRunner()

    created = runner.invoke(
        main, ["keys", "create", "hr", "--scope", "read", "--scope", "write"], env=env
    )
    token = created.output.strip()
    listed = runner.invoke(main, ["keys", "list"], env=env)
    with ApiKeyStore(database_url) as api_keys:
        scopes = api_keys.verify(token)
    revoked = runner.invoke(main, ["keys", "revoke", "hr"], env=env)
    again = runner.invoke(main, ["keys", "revoke", "hr"], env=env)
    with ApiKeyStore(database_url) as api_keys:
        revoked_scopes = api_keys.verify(token)

    assert created.exit_code == 0
    assert token.startswith("hot_")
    assert scopes == frozenset({Scope.READ, Scope.WRITE})
    assert listed.exit_code == 0
    assert "hr\tread,write\t" in listed.output
    assert token not in listed.output
    assert revoked.exit_code == 0
    assert revoked_scopes is None
    assert again.exit_code != 0
    assert "No key named 'hr'" in again.output
    wait_closed(database_url)  # each command closed its key store and its HoT


def test_keys_refuse_an_unknown_scope_and_a_taken_name(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(main, ["keys", "create", "ops", "--scope", "admin"], env=env)

    unknown = runner.invoke(main, ["keys", "create", "x", "--scope", "root"], env=env)
    taken = runner.invoke(main, ["keys", "create", "ops", "--scope", "read"], env=env)

    assert unknown.exit_code != 0
    assert "root" in unknown.output
    assert taken.exit_code != 0
    assert "already exists" in taken.output


@pytest.fixture
def server(
    env: dict[str, str], redis_server_url: str
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    port = free_port()
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "hot"), "serve", "--port", str(port)],
        env=os.environ | env | {"HOT_REDIS_URL": redis_server_url},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process, port
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_listening(port: int, seconds: float = 60) -> None:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


def test_the_first_serve_prints_an_admin_token_that_works(
    server: tuple[subprocess.Popen[str], int],
) -> None:
    process, port = server
    assert process.stdout is not None
    lines = [process.stdout.readline() for _ in range(2)]
    token = lines[1].rsplit(" ", 1)[-1].strip()
    wait_until_listening(port)

    base = f"http://127.0.0.1:{port}"
    body = {"name": "Janov Pelorat", "email": "janov@trantor.example", "kind": "visitor"}
    created = httpx.post(f"{base}/humans", json=body, headers={"Authorization": f"Bearer {token}"})
    anonymous = httpx.post(f"{base}/humans", json=body)
    process.send_signal(signal.SIGTERM)
    exit_code = process.wait(timeout=30)

    assert "admin" in lines[0]
    assert token.startswith("hot_")
    assert created.status_code == 201
    assert anonymous.status_code == 401
    assert exit_code == 0


@pytest.mark.parametrize("write_through", ["on", "off"])
def test_a_command_is_in_the_streams_when_answered_if_serve_writes_through(
    env: dict[str, str], redis_server_url: str, redis_prefix: str, write_through: str
) -> None:
    """No relay runs (``HOT_RELAY=off``): only the write-through can have put it there."""
    port = free_port()
    settings = {
        "HOT_REDIS_URL": redis_server_url,
        "HOT_REDIS_PREFIX": redis_prefix,
        "HOT_RELAY": "off",
        "HOT_STREAM_WRITE_THROUGH": write_through,
    }
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "hot"), "serve", "--port", str(port)],
        env=os.environ | env | settings,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    client = redis.Redis.from_url(redis_server_url)
    try:
        assert process.stdout is not None
        token = [process.stdout.readline() for _ in range(2)][1].rsplit(" ", 1)[-1].strip()
        wait_until_listening(port)
        body = {"name": "Hari Seldon", "email": "hari@trantor.example", "kind": "visitor"}
        created = httpx.post(
            f"http://127.0.0.1:{port}/humans",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
        )
        entries = client.xrange(f"{redis_prefix}:events")
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
        client.close()

    assert created.status_code == 201
    if write_through == "on":
        position = created.json()["position"]
        assert [entry_id for entry_id, _ in entries] == [f"{position}-0".encode()]
        assert entries[0][1][b"name"] == b"HUMAN_REGISTERED"
    else:
        assert entries == []
