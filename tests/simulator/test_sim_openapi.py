"""The published-SDK ("openapi") dialect, over real HTTP."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from wrk_provider.testing import WrkSimulator

from .support import SessionFor, status_of

WRKFLOW = "d3cb5c8d-de4b-4a72-84b3-e529c444d842"
OTHER = "5b8c1e0a-1111-4c2d-8e3f-000000000002"


def _ids(payload: dict[str, Any]) -> list[str]:
    return [launch["id"] for launch in payload["launches"]]


@pytest.fixture
def populated(openapi_sim: WrkSimulator) -> WrkSimulator:
    """Seven launches: 1001..1007, one minute apart, all but the last on WRKFLOW."""
    openapi_sim.add_wrkflow(WRKFLOW)
    for index in range(6):
        openapi_sim.add_launch(WRKFLOW, f"run {index}", start_date=1_728_673_181 + 60 * index)
    openapi_sim.add_launch(OTHER, "run 0", status="completed", start_date=1_728_673_181 + 600)
    return openapi_sim


def test_launch_shape(populated: WrkSimulator, session_for: SessionFor) -> None:
    populated.pause(1002)

    response = session_for(populated).get(f"{populated.url}/launch/1002")

    assert response.status_code == 200
    assert response.json() == {
        "launch": {
            "id": "1002",
            "wrkflow_uuid": WRKFLOW,
            "name": "run 1",
            "start_date": "2024-10-11T19:00:41Z",
            "state": {
                "status": "PAUSED",
                "time_elapsed_sec": 0,
                "num_task_completed": 0,
                "num_errors": 0,
            },
        }
    }


def test_list_first_page_defaults(populated: WrkSimulator, session_for: SessionFor) -> None:
    payload = session_for(populated).get(f"{populated.url}/launch").json()

    assert set(payload) == {"launches", "total_count", "page", "page_size"}
    assert (payload["total_count"], payload["page"], payload["page_size"]) == (7, 0, 50)
    assert _ids(payload) == ["1007", "1006", "1005", "1004", "1003", "1002", "1001"]
    assert payload["launches"][0]["state"]["status"] == "COMPLETED"
    assert payload["launches"][0]["state"]["time_elapsed_sec"] == 60


@pytest.mark.parametrize(
    ("page", "expected"),
    [(0, ["1007", "1006", "1005"]), (1, ["1004", "1003", "1002"]), (2, ["1001"]), (3, [])],
)
def test_paging(
    populated: WrkSimulator, session_for: SessionFor, page: int, expected: list[str]
) -> None:
    params = {"page": str(page), "page_size": "3"}

    payload = session_for(populated).get(f"{populated.url}/launch", params=params).json()

    assert _ids(payload) == expected
    assert (payload["total_count"], payload["page"], payload["page_size"]) == (7, page, 3)


def test_page_size_limit(openapi_sim: WrkSimulator, session_for: SessionFor) -> None:
    for _ in range(1001):
        openapi_sim.add_launch()
    session = session_for(openapi_sim)

    biggest = session.get(f"{openapi_sim.url}/launch", params={"page_size": "1000"}).json()
    too_big = session.get(f"{openapi_sim.url}/launch", params={"page_size": "1001"})

    assert (len(biggest["launches"]), biggest["total_count"]) == (1000, 1001)
    assert too_big.status_code == 400


@pytest.mark.parametrize(
    "params",
    [{"page": "-1"}, {"page": "one"}, {"page_size": "0"}, {"page_size": "x"}],
)
def test_bad_paging_is_400(
    openapi_sim: WrkSimulator, session_for: SessionFor, params: dict[str, str]
) -> None:
    response = session_for(openapi_sim).get(f"{openapi_sim.url}/launch", params=params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["name"], error["metadata"]) == ("BadRequest", {})
    assert next(iter(params)) in error["message"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "run 0"}, ["1007", "1001"]),
        ({"name": "run 0", "wrkflow_uuid": WRKFLOW}, ["1001"]),
        ({"wrkflow_uuid": OTHER}, ["1007"]),
        ({"name": "missing"}, []),
    ],
)
def test_name_and_wrkflow_filters(
    populated: WrkSimulator,
    session_for: SessionFor,
    params: dict[str, str],
    expected: list[str],
) -> None:
    payload = session_for(populated).get(f"{populated.url}/launch", params=params).json()

    assert _ids(payload) == expected
    assert payload["total_count"] == len(expected)


@pytest.mark.parametrize(
    "params",
    [
        {"launch_id": "1001"},
        {"status_code": "3"},
        {"status_code": "abc"},
        {"lower_start_date": "9999999999"},
        {"upper_start_date": "0"},
    ],
)
def test_seed_filters_are_ignored(
    populated: WrkSimulator, session_for: SessionFor, params: dict[str, str]
) -> None:
    response = session_for(populated).get(f"{populated.url}/launch", params=params)

    assert response.status_code == 200
    assert response.json()["total_count"] == 7


@pytest.mark.parametrize("launch_id", ["999", "abc"])
def test_get_unknown_launch_is_404(
    openapi_sim: WrkSimulator, session_for: SessionFor, launch_id: str
) -> None:
    response = session_for(openapi_sim).get(f"{openapi_sim.url}/launch/{launch_id}")

    assert response.status_code == 404
    assert response.json() == {
        "error": {"name": "NotFound", "message": f"Launch {launch_id} not found", "metadata": {}}
    }


def test_pause_and_resume_answer_202_empty(
    populated: WrkSimulator, session_for: SessionFor
) -> None:
    session = session_for(populated)

    paused = session.post(f"{populated.url}/launch/1001/pause")
    assert (paused.status_code, paused.content, paused.headers["Content-Length"]) == (202, b"", "0")
    assert status_of(populated, 1001) == "paused"
    assert session.post(f"{populated.url}/launch/1001/pause").status_code == 202

    resumed = session.post(f"{populated.url}/launch/1001/resume")
    assert (resumed.status_code, resumed.content) == (202, b"")
    assert status_of(populated, 1001) == "running"
    assert session.post(f"{populated.url}/launch/1001/resume").status_code == 202


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_action_on_completed_is_409(
    populated: WrkSimulator, session_for: SessionFor, action: str
) -> None:
    response = session_for(populated).post(f"{populated.url}/launch/1007/{action}")

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["name"] == "Conflict"
    assert "1007" in error["message"]
    assert status_of(populated, 1007) == "completed"


def test_action_on_unknown_is_404(openapi_sim: WrkSimulator, session_for: SessionFor) -> None:
    response = session_for(openapi_sim).post(f"{openapi_sim.url}/launch/4242/resume")

    assert response.status_code == 404
    assert response.json()["error"]["name"] == "NotFound"


def test_action_delay(
    wrk_simulator_factory: Callable[..., WrkSimulator], session_for: SessionFor
) -> None:
    sim = wrk_simulator_factory(dialect="openapi", manual_clock=True, action_delay=0.3)
    launch_id = sim.add_launch()
    session = session_for(sim)
    url = f"{sim.url}/launch/{launch_id}"

    assert session.post(f"{url}/pause").status_code == 202
    before = session.get(url).json()["launch"]["state"]["status"]
    time.sleep(0.45)
    after = session.get(url).json()["launch"]["state"]["status"]

    assert (before, after) == ("RUNNING", "PAUSED")


def test_action_delay_does_not_touch_seed_dialect(
    wrk_simulator_factory: Callable[..., WrkSimulator], session_for: SessionFor
) -> None:
    sim = wrk_simulator_factory(manual_clock=True, action_delay=5.0)
    launch_id = sim.add_launch()

    response = session_for(sim).post(f"{sim.url}/launch/{launch_id}/pause")

    assert response.json() == {"status": True}
    assert status_of(sim, launch_id) == "paused"


def test_start_launch(populated: WrkSimulator, session_for: SessionFor) -> None:
    url = f"{populated.url}/wrkflow/{WRKFLOW}/launch"

    response = session_for(populated).post(url, json={"name": "nightly", "priority": "HIGH"})

    assert (response.status_code, response.json()) == (201, {"id": "1008"})
    launch = session_for(populated).get(f"{populated.url}/launch/1008").json()["launch"]
    assert (launch["name"], launch["state"]["status"]) == ("nightly", "RUNNING")


def test_unknown_wrkflow_is_404(openapi_sim: WrkSimulator, session_for: SessionFor) -> None:
    response = session_for(openapi_sim).post(f"{openapi_sim.url}/wrkflow/nope/launch")

    assert response.status_code == 404
    assert response.json()["error"] == {
        "name": "NotFound",
        "message": "Wrkflow nope not found",
        "metadata": {},
    }
