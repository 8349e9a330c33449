"""docs/operations.md's companions: the Grafana dashboard and the alert rules name only
metrics HoT exports, and promtool accepts the rules."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hot.infra.metrics import HotMetrics
from hot_attendance.metrics import ProjectionMetrics
from tests.promtool import names, promtool

DOCS = Path(__file__).resolve().parents[2] / "docs"
DASHBOARD, ALERTS = DOCS / "grafana-dashboard.json", DOCS / "prometheus-alerts.yml"
METRIC = re.compile(r"\bhot_[a-z0-9_]+")
FAMILY_SUFFIXES = ("", "_total", "_bucket", "_count", "_sum")


def exported() -> set[str]:
    """Every sample name HoT's metrics and a projection's expose (each family's with its
    suffixes: a labelled family with no child yet has no sample)."""
    texts = [
        HotMetrics().render().decode(),
        generate_latest(ProjectionMetrics("p", lambda: 0).registry).decode(),
    ]
    families = {f.name for text in texts for f in text_string_to_metric_families(text)}
    return {f + s for f in families for s in FAMILY_SUFFIXES} | {n for t in texts for n in names(t)}


def expressions(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["expr"]] if isinstance(node.get("expr"), str) else []
        return found + [e for value in node.values() for e in expressions(value)]
    if isinstance(node, list):
        return [e for value in node for e in expressions(value)]
    return []


def test_every_dashboard_expression_names_exported_metrics() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    found = expressions(dashboard)

    assert len(found) >= 20
    unknown = {m for e in found for m in METRIC.findall(e)} - exported()
    assert unknown == set()
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])


def test_every_alert_names_exported_metrics() -> None:
    rules = ALERTS.read_text()
    found = expressions(yaml.safe_load(rules))
    unknown = {m for e in found for m in METRIC.findall(e)} - exported()

    assert len(found) >= 7
    assert unknown == set()
    for alert in ("HotRelayLagging", "HotNoRelayLeader", "HotProjectionStuck", "HotServerErrors"):
        assert f"alert: {alert}" in rules


def test_promtool_accepts_the_alert_rules() -> None:
    result = subprocess.run(
        [promtool(), "check", "rules", str(ALERTS)], capture_output=True, text=True, timeout=60
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", [DASHBOARD, ALERTS])
def test_operations_md_links_it(path: Path) -> None:
    assert f"]({path.name})" in (DOCS / "operations.md").read_text()
