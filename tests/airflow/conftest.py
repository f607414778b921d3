"""A migrated metadata DB for the whole session, and connections to simulators."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from wrk_airflow_support import connection_json

from wrk_provider.testing import WrkSimulator


@pytest.fixture(scope="session", autouse=True)
def airflow_db() -> None:
    """Create the throw-away SQLite metadata DB that ``tests/conftest.py`` points at."""
    done = subprocess.run(
        [sys.executable, "-m", "airflow", "db", "migrate"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"airflow db migrate failed:\n{done.stdout[-5000:]}"


@pytest.fixture
def use_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point ``AIRFLOW_CONN_<ID>`` of this process at a simulator."""

    def use(sim: WrkSimulator, conn_id: str = "wrk_default", **extra: Any) -> None:
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(sim, **extra))

    return use
