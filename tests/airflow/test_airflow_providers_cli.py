"""Airflow's own CLI finds the provider's extra link and triggers through its entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest

pytestmark = pytest.mark.integration


def airflow_json(*args: str) -> list[dict[str, Any]]:
    done = subprocess.run(
        [sys.executable, "-m", "airflow", *args, "--output", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    # Anything printed before the JSON (a warning, say) is not part of the answer.
    return list(json.loads(done.stdout[done.stdout.index("[") :]))


def test_providers_links_lists_the_launch_link() -> None:
    links = {row["extra_link_class_name"] for row in airflow_json("providers", "links")}

    assert "wrk_provider.links.wrk.WrkLaunchLink" in links


def test_providers_triggers_lists_the_trigger_module() -> None:
    rows = airflow_json("providers", "triggers")

    ours = [row for row in rows if row["package_name"] == "airflow-provider-wrk"]
    assert [row["class"] for row in ours] == ["wrk_provider.triggers.wrk"]
    assert ours[0]["integration_name"] == "Wrk"
