"""Simulators in both dialects, and clients pointed at them with short retry waits."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient
from wrk_provider.testing import WrkSimulator

DIALECTS = ("seed", "openapi")
FAST_RETRY = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05)

# 2024-10-11T18:59:41Z, the start date in the reference's example launch.
T0 = 1_728_673_181


@pytest.fixture(params=DIALECTS)
def sim(request: pytest.FixtureRequest, wrk_simulator_factory: Callable[..., WrkSimulator]):
    """A started simulator with a manual clock, once per dialect."""
    return wrk_simulator_factory(dialect=request.param, manual_clock=True)


@pytest.fixture
def seed_sim(wrk_simulator_factory: Callable[..., WrkSimulator]) -> WrkSimulator:
    return wrk_simulator_factory(dialect="seed", manual_clock=True)


@pytest.fixture
def openapi_sim(wrk_simulator_factory: Callable[..., WrkSimulator]) -> WrkSimulator:
    return wrk_simulator_factory(dialect="openapi", manual_clock=True)


@pytest.fixture
def make_client() -> Any:
    """Build ``WrkClient`` objects for a simulator; every one is closed after the test."""
    made: list[WrkClient] = []

    def make(sim: WrkSimulator, **options: Any) -> WrkClient:
        options.setdefault("retry", FAST_RETRY)
        client = WrkClient(options.pop("api_key", sim.api_key), base_url=sim.url, **options)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def use_connection(monkeypatch: pytest.MonkeyPatch) -> Callable[..., None]:
    """Point ``AIRFLOW_CONN_<ID>`` at a simulator, in the JSON form."""

    def use(
        sim: WrkSimulator,
        conn_id: str = "wrk_default",
        *,
        password: str | None = None,
        host: str | None = None,
        **extra: Any,
    ) -> None:
        conn = {
            "conn_type": "wrk",
            "host": sim.url if host is None else host,
            "password": sim.api_key if password is None else password,
            "extra": {"retry_wait": 0.01, "retry_max_wait": 0.05, **extra},
        }
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))

    return use


def _populate(sim: WrkSimulator) -> dict[str, Any]:
    """Six launches over two wrkflows, in every status, one minute apart, oldest first.

    ids 101..106 start at T0, T0+60, ...: 101 A running, 102 B paused, 103 A completed,
    104 B running, 105 A paused, 106 A running.
    """
    wf_a = sim.add_wrkflow("11111111-1111-4111-8111-111111111111", name="A")
    wf_b = sim.add_wrkflow("22222222-2222-4222-8222-222222222222", name="B")
    plan = [
        (wf_a, "running"),
        (wf_b, "paused"),
        (wf_a, "completed"),
        (wf_b, "running"),
        (wf_a, "paused"),
        (wf_a, "running"),
    ]
    ids = [
        sim.add_launch(
            launch_id=101 + index, wrkflow_uuid=uuid, status=status, start_date=T0 + 60 * index
        )
        for index, (uuid, status) in enumerate(plan)
    ]
    return {"a": wf_a, "b": wf_b, "ids": ids, "t0": T0}


@pytest.fixture
def populate() -> Callable[[WrkSimulator], dict[str, Any]]:
    """Fill a simulator with the six launches described in ``_populate``."""
    return _populate


@pytest.fixture
def seeded(sim: WrkSimulator) -> dict[str, Any]:
    """The parametrised simulator, filled with the six launches."""
    return _populate(sim)
