"""``WrkLaunchTrigger`` driven with asyncio against a simulator, as a triggerer would run it."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from wrk_airflow_support import import_string, reads_of

from wrk_provider.testing import Fault, WrkSimulator
from wrk_provider.triggers.wrk import WrkLaunchTrigger

pytestmark = pytest.mark.integration

SimulatorFactory = Callable[..., WrkSimulator]
#: One request per look, so that a count of requests is a count of looks.
NO_RETRIES = {"max_retries": 0, "retry_wait": 0.01}


def make_trigger(launch_id: int | str, **kwargs: Any) -> WrkLaunchTrigger:
    options: dict[str, Any] = {
        "wrk_conn_id": "wrk_default",
        "poll_interval": 0.1,
        "end_time": time.time() + 30,
    }
    options.update(kwargs)
    return WrkLaunchTrigger(launch_id=launch_id, **options)


def run_trigger(
    trigger: WrkLaunchTrigger, *side_shows: Callable[[], Any], limit: float = 30.0
) -> list[dict[str, Any]]:
    """Every event the trigger yields until its ``run()`` ends, with ``side_shows`` (coroutine
    functions) running beside it in the same event loop."""

    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    async def main() -> list[dict[str, Any]]:
        shows = [asyncio.ensure_future(show()) for show in side_shows]
        try:
            return await asyncio.wait_for(collect(), limit)
        finally:
            for show in shows:
                show.cancel()

    return asyncio.run(main())


def after_reads(sim: WrkSimulator, launch_id: int, reads: int, action: Callable[[], None]):
    """A side show that runs ``action`` once the launch has been read ``reads`` times."""

    async def show() -> None:
        while len(reads_of(sim, launch_id)) < reads:
            await asyncio.sleep(0.01)
        action()

    return show


@pytest.fixture(params=["seed", "openapi"])
def sim(request: pytest.FixtureRequest, wrk_simulator_factory: SimulatorFactory) -> WrkSimulator:
    return wrk_simulator_factory(dialect=request.param, manual_clock=True)


def test_serialize_round_trip_rebuilds_an_equal_trigger_without_the_key(
    wrk_simulator: WrkSimulator, use_connection: Callable[..., None]
) -> None:
    use_connection(wrk_simulator)
    trigger = WrkLaunchTrigger(
        launch_id=1223321,
        wrk_conn_id="wrk_default",
        poll_interval=7.5,
        end_time=1_900_000_000.25,
        max_errors=3,
        fail_on_paused=True,
        max_consecutive_failures=4,
        first_look_at=1_800_000_000.5,
    )

    classpath, kwargs = trigger.serialize()
    rebuilt = import_string(classpath)(**kwargs)

    assert classpath == "wrk_provider.triggers.wrk.WrkLaunchTrigger"
    assert type(rebuilt) is WrkLaunchTrigger
    assert rebuilt.serialize() == (classpath, kwargs)
    assert kwargs["launch_id"] == "1223321"
    assert kwargs["poll_interval"] == 7.5
    assert kwargs["end_time"] == 1_900_000_000.25
    assert (kwargs["max_errors"], kwargs["fail_on_paused"]) == (3, True)
    assert kwargs["max_consecutive_failures"] == 4
    assert kwargs["first_look_at"] == 1_800_000_000.5
    stored = json.dumps(kwargs)
    assert wrk_simulator.api_key not in stored
    assert "password" not in stored and "api_key" not in stored


def test_success_is_one_event_with_the_completed_launch(
    sim: WrkSimulator, use_connection: Callable[..., None]
) -> None:
    use_connection(sim, **NO_RETRIES)
    launch_id = sim.add_launch(duration=600)

    events = run_trigger(
        make_trigger(launch_id), after_reads(sim, launch_id, 2, lambda: sim.complete(launch_id))
    )

    assert len(events) == 1
    (event,) = events
    assert event["status"] == "success"
    assert str(event["launch"]["launch_id"]) == str(launch_id)
    assert event["launch"]["state"]["status"] == "completed"
    assert event["launch"]["state"]["num_task_completed"] == 100
    assert len(reads_of(sim, launch_id)) >= 3, "the trigger saw the launch running first"
    assert sim.count("POST") == 0


@pytest.mark.parametrize(
    ("reason", "options", "turn", "words"),
    [
        ("max_errors", {"max_errors": 1}, lambda s, i: s.set_errors(i, 4), ["4 errors", "max_"]),
        ("paused", {"fail_on_paused": True}, lambda s, i: s.pause(i), ["paused", "fail_on_"]),
        ("not found", {}, lambda s, i: s.remove_launch(i), ["not found"]),
        ("unknown", {}, lambda s, i: s.set_raw_status(i, "archived"), ["'archived'"]),
    ],
)
def test_a_failed_wait_is_one_event_naming_the_launch_and_the_reason(
    sim: WrkSimulator,
    use_connection: Callable[..., None],
    reason: str,
    options: dict[str, Any],
    turn: Callable[[WrkSimulator, int], None],
    words: list[str],
) -> None:
    use_connection(sim, **NO_RETRIES)
    launch_id = sim.add_launch(duration=600)

    events = run_trigger(
        make_trigger(launch_id, **options),
        after_reads(sim, launch_id, 1, lambda: turn(sim, launch_id)),
    )

    assert len(events) == 1, events
    (event,) = events
    assert event["status"] == "failed", event
    assert f"Launch {launch_id}" in event["message"]
    for word in words:
        assert word in event["message"], (reason, event["message"])
    if reason == "max_errors":
        assert sim.launch(launch_id)["state"]["status"] == "running", "it failed before the end"


def test_the_deadline_is_one_timeout_event(
    sim: WrkSimulator, use_connection: Callable[..., None]
) -> None:
    use_connection(sim, **NO_RETRIES)
    launch_id = sim.add_launch(duration=600)
    began = time.monotonic()

    events = run_trigger(make_trigger(launch_id, poll_interval=0.2, end_time=time.time() + 0.8))

    assert len(events) == 1
    (event,) = events
    assert event["status"] == "timeout"
    assert f"Launch {launch_id}" in event["message"] and "timeout" in event["message"]
    assert 0.7 <= time.monotonic() - began < 5
    assert 2 <= len(reads_of(sim, launch_id)) <= 8, "it kept looking until the deadline"
    assert sim.launch(launch_id)["state"]["status"] == "running"


def test_consecutive_failed_looks_end_the_wait_with_one_error_event(
    sim: WrkSimulator, use_connection: Callable[..., None]
) -> None:
    use_connection(sim, **NO_RETRIES)
    launch_id = sim.add_launch(duration=600)
    sim.inject("GET *", Fault.error(503, times=0))

    events = run_trigger(make_trigger(launch_id, poll_interval=0.05, max_consecutive_failures=3))

    assert len(events) == 1
    (event,) = events
    assert event["status"] == "error"
    message = event["message"]
    assert f"launch {launch_id}" in message.lower()
    assert "3 failed" in message and "GET /launch" in message and "503" in message
    assert sim.count("GET") == 3, [(r.method, r.path, r.status) for r in sim.requests]
    assert {request.status for request in sim.requests} == {503}


def test_fewer_failed_looks_in_a_row_than_the_bound_do_not_end_the_wait(
    sim: WrkSimulator, use_connection: Callable[..., None]
) -> None:
    use_connection(sim, **NO_RETRIES)
    launch_id = sim.add_launch(duration=600)
    # Two failures, one good look (the launch is running), two more failures, then good looks.
    sim.inject(
        "GET *",
        Fault.error(503, times=2),
        Fault.slow(0.0, times=1),
        Fault.error(503, times=2),
    )
    complete_later = after_reads(sim, launch_id, 4, lambda: sim.complete(launch_id))

    events = run_trigger(
        make_trigger(launch_id, poll_interval=0.05, max_consecutive_failures=3), complete_later
    )

    assert len(events) == 1
    (event,) = events
    assert event["status"] == "success", event
    assert event["launch"]["state"]["status"] == "completed"
    statuses = [request.status for request in sim.requests]
    assert statuses[:5] == [503, 503, 200, 503, 503], statuses
    assert statuses[5:] and set(statuses[5:]) == {200}
