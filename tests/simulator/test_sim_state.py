"""Auth, the clock and the launch lifecycle."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timezone

import pytest
import requests

from wrk_provider.testing import WrkSimulator

from .support import SessionFor, state_of, status_of


@pytest.mark.parametrize(
    "header",
    [None, "", "Api-Key", "Api-Key wrong", "Bearer {key}", "{key}", "Api-Key {key}x"],
)
def test_auth_rejects(seed_sim: WrkSimulator, header: str | None) -> None:
    headers = {} if header is None else {"Authorization": header.format(key=seed_sim.api_key)}

    response = requests.get(f"{seed_sim.url}/launch", headers=headers, timeout=5)

    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == 401
    assert "Authorization" in error["message"]
    assert seed_sim.api_key not in response.text


def test_auth_accepts_scheme_in_any_case(seed_sim: WrkSimulator) -> None:
    headers = {"Authorization": f"api-key {seed_sim.api_key}"}

    assert requests.get(f"{seed_sim.url}/launch", headers=headers, timeout=5).status_code == 200


def test_custom_key_and_scheme(wrk_simulator_factory: Callable[..., WrkSimulator]) -> None:
    sim = wrk_simulator_factory(api_key="s3cret", auth_scheme="Bearer", dialect="openapi")
    url = f"{sim.url}/launch"

    good = requests.get(url, headers={"Authorization": "Bearer s3cret"}, timeout=5)
    bad = requests.get(url, headers={"Authorization": "Api-Key s3cret"}, timeout=5)

    assert sim.api_key == "s3cret"
    assert (good.status_code, bad.status_code) == (200, 401)
    assert bad.json()["error"]["name"] == "Unauthorized"


def test_default_key_is_random() -> None:
    first, second = WrkSimulator(), WrkSimulator()

    assert first.api_key.startswith("wrk-sim-")
    assert len(first.api_key) == len("wrk-sim-") + 24
    assert first.api_key != second.api_key


def test_running_launch_accrues_and_completes(
    seed_sim: WrkSimulator, session_for: SessionFor
) -> None:
    launch_id = seed_sim.add_launch(duration=120, total_tasks=40, errors_per_minute=2.0)
    url = f"{seed_sim.url}/launch"
    session = session_for(seed_sim)

    seed_sim.advance(30)
    state = session.get(url, params={"launch_id": launch_id}).json()["launches"][0]["state"]
    assert state == {
        "status": "running",
        "time_elapsed": 30,
        "num_task_completed": 10,
        "num_errors": 1,
    }

    seed_sim.advance(89)
    assert state_of(seed_sim, launch_id) == {
        "status": "running",
        "time_elapsed": 119,
        "num_task_completed": 39,
        "num_errors": 3,
    }

    seed_sim.advance(1000)
    assert state_of(seed_sim, launch_id) == {
        "status": "completed",
        "time_elapsed": 120,
        "num_task_completed": 40,
        "num_errors": 4,
    }


def test_paused_launch_stands_still(seed_sim: WrkSimulator) -> None:
    launch_id = seed_sim.add_launch(duration=100, errors_per_minute=6.0)
    seed_sim.advance(10)

    assert seed_sim.pause(launch_id) is True
    seed_sim.advance(500)
    paused = state_of(seed_sim, launch_id)
    assert seed_sim.resume(launch_id) is True
    seed_sim.advance(20)

    assert paused == {
        "status": "paused",
        "time_elapsed": 10,
        "num_task_completed": 10,
        "num_errors": 1,
    }
    assert state_of(seed_sim, launch_id)["time_elapsed"] == 30


def test_completed_launch_stays_completed(seed_sim: WrkSimulator) -> None:
    launch_id = seed_sim.add_launch(duration=100)
    seed_sim.advance(40)
    seed_sim.complete(launch_id)
    seed_sim.advance(100)

    assert seed_sim.pause(launch_id) is False
    assert seed_sim.resume(launch_id) is False
    assert state_of(seed_sim, launch_id) == {
        "status": "completed",
        "time_elapsed": 40,
        "num_task_completed": 100,
        "num_errors": 0,
    }


def test_add_launch_defaults_and_options(seed_sim: WrkSimulator) -> None:
    first = seed_sim.add_launch()
    given = seed_sim.add_launch(
        launch_id=5000,
        name="given",
        num_errors=3,
        status="paused",
        start_date=datetime(2024, 10, 11, 18, 59, 41, tzinfo=timezone.utc),
    )
    after = seed_sim.add_launch(status="completed", duration=90, total_tasks=7)
    half = seed_sim.add_launch(status="paused", duration=100, elapsed=25)

    assert (first, given, after, half) == (1001, 5000, 5001, 5002)
    assert seed_sim.launch(first)["start_date"] == int(seed_sim.now())
    assert seed_sim.launch(given)["start_date"] == 1_728_673_181
    assert seed_sim.launch(given)["name"] == "given"
    assert state_of(seed_sim, given)["num_errors"] == 3
    assert state_of(seed_sim, after) == {
        "status": "completed",
        "time_elapsed": 90,
        "num_task_completed": 7,
        "num_errors": 0,
    }
    assert state_of(seed_sim, half)["num_task_completed"] == 25
    assert {launch["wrkflow_uuid"] for launch in seed_sim.launches()} == {
        seed_sim.launch(first)["wrkflow_uuid"]
    }


def test_add_launch_rejects_bad_values(seed_sim: WrkSimulator) -> None:
    seed_sim.add_launch(launch_id=7)

    with pytest.raises(ValueError, match="already exists"):
        seed_sim.add_launch(launch_id=7)
    with pytest.raises(ValueError, match="status"):
        seed_sim.add_launch(status="failed")
    with pytest.raises(ValueError, match="duration"):
        seed_sim.add_launch(duration=-1)


def test_manipulation_helpers(openapi_sim: WrkSimulator, session_for: SessionFor) -> None:
    launch_id = openapi_sim.add_launch()
    url = f"{openapi_sim.url}/launch/{launch_id}"
    session = session_for(openapi_sim)

    openapi_sim.set_errors(launch_id, 9)
    openapi_sim.set_raw_status(launch_id, "exploded")
    state = session.get(url).json()["launch"]["state"]
    assert (state["status"], state["num_errors"]) == ("EXPLODED", 9)
    assert status_of(openapi_sim, launch_id) == "exploded"

    openapi_sim.remove_launch(launch_id)
    assert session.get(url).status_code == 404
    with pytest.raises(KeyError):
        openapi_sim.launch(launch_id)


def test_raw_status_in_seed_dialect(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    launch_id = seed_sim.add_launch()
    seed_sim.set_raw_status(launch_id, "Exploded")

    payload = session_for(seed_sim).get(f"{seed_sim.url}/launch").json()

    assert payload["launches"][0]["state"]["status"] == "Exploded"
    assert (
        session_for(seed_sim)
        .get(f"{seed_sim.url}/launch", params={"status_code": "1"})
        .json()["totalCount"]
        == 0
    )


def test_manual_clock_is_frozen(seed_sim: WrkSimulator) -> None:
    before = seed_sim.now()
    time.sleep(0.05)

    assert seed_sim.now() == before
    seed_sim.advance(12.5)
    assert seed_sim.now() == before + 12.5
    with pytest.raises(ValueError):
        seed_sim.advance(-1)


def test_real_clock_runs_at_speed(wrk_simulator_factory: Callable[..., WrkSimulator]) -> None:
    sim = wrk_simulator_factory(speed=100.0)
    launch_id = sim.add_launch(duration=1000)
    start = sim.now()

    time.sleep(0.2)
    elapsed = state_of(sim, launch_id)["time_elapsed"]
    sim.advance(300)

    assert isinstance(elapsed, int)
    assert 15 <= elapsed <= 60
    assert 15 <= sim.now() - start - 300 <= 80
    assert abs(start - time.time()) < 60


def test_speed_must_be_positive() -> None:
    with pytest.raises(ValueError, match="speed"):
        WrkSimulator(speed=0)
    with pytest.raises(ValueError, match="dialect"):
        WrkSimulator(dialect="graphql")
