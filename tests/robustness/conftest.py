"""Fixtures of the robustness tests. Simulators come from the package's pytest plugin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from wrk_provider.testing import WrkSimulator

from .support import connection_json

UseConnection = Callable[..., None]


@pytest.fixture
def use_connection(monkeypatch: pytest.MonkeyPatch) -> UseConnection:
    """Point ``AIRFLOW_CONN_<ID>`` at a simulator (or any address), in the JSON form."""

    def use(
        sim: WrkSimulator | None = None,
        conn_id: str = "wrk_default",
        *,
        host: str | None = None,
        password: str | None = "",
        **extra: Any,
    ) -> None:
        url = host if host is not None else sim.url if sim is not None else ""
        key = (sim.api_key if sim is not None else "wrk-test-key") if password == "" else password
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", connection_json(url, key, **extra))

    return use
