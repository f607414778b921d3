"""A key replaced in the connection while waits are deferred: the triggerer reads the connection
again after Wrk refuses the old key, and the waits go on; a key that stays wrong ends them."""

from __future__ import annotations

import asyncio

import pytest

from wrk_provider.testing import WrkSimulator

from .support import QUICK_EXTRAS, connection_json, make_trigger, run_trigger

pytestmark = pytest.mark.integration

INTERVAL = 0.3


def test_waits_go_on_once_the_connection_holds_the_new_key(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with WrkSimulator(manual_clock=True) as sim:
        launch_ids = [sim.add_launch(duration=600) for _ in range(3)]
        monkeypatch.setenv(
            "AIRFLOW_CONN_WRK_DEFAULT", connection_json(sim.url, "wrk-old-key", **QUICK_EXTRAS)
        )

        async def scene() -> list[list[dict[str, object]]]:
            waits = [
                asyncio.ensure_future(run_trigger(make_trigger(launch_id, INTERVAL)))
                for launch_id in launch_ids
            ]
            while sim.count(path="/launch") == 0:  # the old key is refused once
                await asyncio.sleep(0.01)
            monkeypatch.setenv(
                "AIRFLOW_CONN_WRK_DEFAULT", connection_json(sim.url, sim.api_key, **QUICK_EXTRAS)
            )
            sim.advance(600)
            return list(await asyncio.gather(*waits))

        events = asyncio.run(asyncio.wait_for(scene(), 30))

    assert [[event["status"] for event in run] for run in events] == [["success"]] * 3
    refused = [request for request in sim.requests if request.status == 401]
    assert refused, "the old key was tried first"
    assert all(request.status == 200 for request in sim.requests[len(refused) :])


def test_a_key_that_stays_wrong_ends_the_wait_after_one_fresh_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with WrkSimulator(manual_clock=True) as sim:
        launch_id = sim.add_launch(duration=600)
        monkeypatch.setenv(
            "AIRFLOW_CONN_WRK_DEFAULT", connection_json(sim.url, "wrk-wrong-key", **QUICK_EXTRAS)
        )

        [event] = asyncio.run(asyncio.wait_for(run_trigger(make_trigger(launch_id, INTERVAL)), 30))

    assert event["status"] == "failed"
    assert "HTTP 401" in str(event["message"]) and "API key" in str(event["message"])
    assert "wrk-wrong-key" not in str(event["message"])
    assert [request.status for request in sim.requests] == [401, 401]
