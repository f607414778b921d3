"""The provider as the ``airflow`` command line sees it, run as a separate process."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from wrk_provider import __version__
from wrk_provider.testing import WrkSimulator

pytestmark = pytest.mark.integration


def airflow(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )


def test_providers_list() -> None:
    result = airflow("providers", "list")

    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if "airflow-provider-wrk" in line]
    assert __version__ in line


def test_providers_hooks() -> None:
    result = airflow("providers", "hooks")

    assert result.returncode == 0, result.stderr
    [line] = [line for line in result.stdout.splitlines() if "WrkHook" in line]
    assert line.split()[0] == "wrk"
    assert "wrk_provider.hooks.wrk.WrkHook" in line
    assert "wrk_conn_id" in line
    assert "airflow-provider-wrk" in line


def test_connections_test(sim: WrkSimulator) -> None:
    sim.add_launch()

    result = airflow(
        "connections", "test", "wrk_default", AIRFLOW_CONN_WRK_DEFAULT=sim.connection_uri()
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert "Connection success!" in result.stdout
    assert sim.count("GET", "/launch") == 1
    assert sim.requests[0].headers["authorization"] == f"Api-Key {sim.api_key}"


def test_connections_test_with_a_wrong_key(seed_sim: WrkSimulator) -> None:
    uri = seed_sim.connection_uri().replace(seed_sim.api_key, "wrong-key")

    result = airflow("connections", "test", "wrk_default", AIRFLOW_CONN_WRK_DEFAULT=uri)

    assert "Connection failed!" in result.stdout
    assert "HTTP 401" in result.stdout
    assert seed_sim.count("GET", "/launch") == 1
