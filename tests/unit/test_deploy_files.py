"""docker-compose.yml says only what HoT reads: every ``HOT_*`` setting it sets is one
HoT knows, each service's settings are accepted by ``Settings``, and the ``scale``
profile holds the topology docs/deploy.md draws (there is no Docker engine here to run
it; these checks keep the file and the code in step)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from hot.infra.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, Any] = COMPOSE["services"]
HOT_SERVICES = [name for name, s in SERVICES.items() if s.get("image") == "hot:latest"]
SETTINGS_SOURCE = (ROOT / "src/hot/infra/settings.py").read_text()


def scale(name: str) -> bool:
    return "scale" in SERVICES[name].get("profiles", [])


@pytest.mark.parametrize("service", HOT_SERVICES)
def test_every_hot_setting_in_the_compose_file_is_one_hot_reads(service: str) -> None:
    environment = SERVICES[service]["environment"]
    unknown = [k for k in environment if k.startswith("HOT_") and f'"{k}"' not in SETTINGS_SOURCE]
    assert unknown == []
    Settings.from_env({k: str(v) for k, v in environment.items()})  # accepted as they are


def test_the_scale_profile_has_the_topology_of_the_deploy_guide() -> None:
    api, relay = SERVICES["api-scale"], SERVICES["relay-scale"]
    assert api["deploy"]["replicas"] >= 2
    assert relay["deploy"]["replicas"] == 2
    env = api["environment"]
    assert env["HOT_REDIS_CLUSTER"] == "on"
    assert re.fullmatch(r"\{[^}]+\}.*", env["HOT_REDIS_PREFIX"])  # one slot
    assert "postgres-replica" in env["HOT_DATABASE_READ_URL"]
    assert "pg_basebackup" in " ".join(SERVICES["postgres-replica"]["command"])
    nodes = [n for n in SERVICES if n.startswith("redis-node-")]
    assert len(nodes) == 6
    for node in nodes:
        assert "--cluster-enabled" in SERVICES[node]["command"]
    assert "--cluster-replicas 1" in " ".join(SERVICES["redis-cluster-ready"]["command"])
    assert all(
        scale(n)
        for n in ["api-scale", "relay-scale", "lb", "postgres-replica", "redis-cluster-ready"]
    )
    nginx = (ROOT / "deploy/nginx/hot.conf").read_text()
    assert "server api-scale:8000" in nginx
    assert SERVICES["lb"]["ports"] == ["8080:8080"]


def test_the_files_the_compose_file_mounts_exist() -> None:
    for service in SERVICES.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).is_file(), source


def test_every_test_and_bench_the_deploy_guide_names_exists() -> None:
    guide = (ROOT / "docs/deploy.md").read_text()
    named = re.findall(r"`((?:tests|bench)/[\w/]+\.py)", guide)
    assert len(named) >= 8
    assert [path for path in named if not (ROOT / path).is_file()] == []
