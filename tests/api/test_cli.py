"""``hot keys`` and ``hot serve``: tokens from the command line, and a real server's first start."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import httpx
import pytest
import redis
from click.testing import CliRunner

from hot.cli import main
from hot.infra.api_keys import ApiKeyStore, Scope
from tests.activity import wait_closed
from tests.processes import HotProcess, Processes
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


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["keys", "create", "", "--scope", "read"],
            "Invalid value for 'NAME': a key's name must not be blank",
        ),
        (["keys", "create", "a\x00b", "--scope", "read"], "up to 100 printable characters"),
        (["keys", "create", "x" * 101, "--scope", "read"], "up to 100 printable characters"),
        (["keys", "create", "x", "--scope", "root"], "'root' is not one of"),
        (["keys", "frobnicate"], "No such command 'frobnicate'"),
        (["tail", "--url", "http://127.0.0.1:9"], "--url needs --token"),
    ],
)
def test_a_usage_error_is_one_line_and_exits_2(
    env: dict[str, str], database_url: str, args: list[str], says: str
) -> None:
    result = CliRunner().invoke(main, args, env=env)

    assert result.exit_code == 2
    assert result.output.count("\n") == 1, result.output
    assert says in result.output
    assert "--help" in result.output
    with ApiKeyStore(database_url) as api_keys:
        assert api_keys.list_keys() == []  # nothing created


def test_any_other_error_is_one_line_and_exits_1(tmp_path: Path) -> None:
    unreachable = {"HOT_DATABASE_URL": "postgresql://postgres@127.0.0.1:9/none"}
    result = CliRunner().invoke(main, ["keys", "list"], env=unreachable)
    verbose = CliRunner().invoke(main, ["-v", "keys", "list"], env=unreachable)

    assert result.exit_code == 1
    assert result.output.count("\n") == 1, result.output
    assert result.output.startswith("hot: ")
    assert "127.0.0.1" in result.output
    assert "(-v shows where)" in result.output
    assert verbose.exit_code == 1
    assert verbose.exception is not None  # -v: the error itself, with its traceback


def first_serve(
    processes: Processes, env: dict[str, str], **settings: str
) -> tuple[HotProcess, str, list[str], str]:
    """``hot serve`` started for the first time, once it listens: the process, its base
    URL, the first two lines it printed and the admin token the second shows."""
    port = free_port()
    process = processes.hot(["serve", "--port", str(port)], **env, **settings).start()
    process.wait_for_output("Its token", 60, "hot serve prints the admin token")
    lines = process.output().splitlines()[:2]
    wait_until_listening(port)
    return process, f"http://127.0.0.1:{port}", lines, lines[1].rsplit(" ", 1)[-1].strip()


def wait_until_listening(port: int, seconds: float = 60) -> None:
    give_up = time.monotonic() + seconds
    while time.monotonic() < give_up:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on port {port}")


def test_the_first_serve_prints_an_admin_token_that_works(
    env: dict[str, str], processes: Processes
) -> None:
    process, base, lines, token = first_serve(processes, env)
    body = {"name": "Janov Pelorat", "email": "janov@trantor.example", "kind": "visitor"}
    bearer = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{base}/humans", json=body, headers=bearer)
    anonymous = httpx.post(f"{base}/humans", json=body)
    exit_code = process.terminate(30)

    assert "admin" in lines[0]
    assert token.startswith("hot_")
    assert created.status_code == 201
    assert anonymous.status_code == 401
    assert exit_code == 0


@pytest.mark.parametrize("write_through", ["on", "off"])
def test_a_command_is_in_the_streams_when_answered_if_serve_writes_through(
    env: dict[str, str],
    redis_server_url: str,
    redis_prefix: str,
    processes: Processes,
    write_through: str,
) -> None:
    """No relay runs (``HOT_RELAY=off``): only the write-through can have put it there."""
    settings = {"HOT_RELAY": "off", "HOT_STREAM_WRITE_THROUGH": write_through}
    process, base, _, token = first_serve(processes, env, **settings)
    body = {"name": "Hari Seldon", "email": "hari@trantor.example", "kind": "visitor"}
    created = httpx.post(f"{base}/humans", json=body, headers={"Authorization": f"Bearer {token}"})
    with redis.Redis.from_url(redis_server_url) as client:
        entries = client.xrange(f"{redis_prefix}:events")
    process.terminate(30)

    assert created.status_code == 201
    if write_through == "on":
        position = created.json()["position"]
        assert [entry_id for entry_id, _ in entries] == [f"{position}-0".encode()]
        assert entries[0][1][b"name"] == b"HUMAN_REGISTERED"
    else:
        assert entries == []
