"""promtool (Debian's ``prometheus`` package), as the metrics and alert tests run it.

Without it a test skips, unless ``HOT_REQUIRE_PROMTOOL=1`` (``.ci/run`` sets it and
installs the package): then a missing promtool fails the test.
"""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from prometheus_client.parser import text_string_to_metric_families


def promtool() -> str:
    """The path of promtool, or skip (fail when it is required)."""
    path = shutil.which("promtool")
    if path is None:
        if os.environ.get("HOT_REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool is required (HOT_REQUIRE_PROMTOOL=1) but not installed")
        pytest.skip("promtool is not installed (apt-get install -y prometheus)")
    return path


def check_metrics(text: str) -> None:
    """``promtool check metrics`` on ``text`` passes, with no complaint (lint included)."""
    result = subprocess.run(
        [promtool(), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "", result.stdout


def value(text: str, name: str, **labels: str) -> float:
    """The value of the sample ``name`` with ``labels`` in the exposition ``text`` (0 if
    absent: a counter never incremented has no sample)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and all(sample.labels.get(k) == v for k, v in labels.items()):
                return float(sample.value)
    return 0.0


def names(text: str) -> set[str]:
    """Every sample name in ``text``."""
    return {s.name for f in text_string_to_metric_families(text) for s in f.samples}
