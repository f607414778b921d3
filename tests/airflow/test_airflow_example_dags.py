"""Every example DAG, run to its end by ``airflow dags test`` against a simulator."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from wrk_airflow_support import (
    AIRFLOW_3,
    LOGICAL_DATE,
    DagRunResult,
    Stagehand,
    actions_on,
    connection_json,
    reads_of,
    run_dag,
)

from wrk_provider.testing import WrkSimulator

pytestmark = pytest.mark.integration

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
#: The ``wrkflow_uuid`` param's default in ``example_wrk_pause_running``.
EXAMPLE_WRKFLOW = "d3cb5c8d-de4b-4a72-84b3-e529c444d842"


def test_example_pause_resume_wait_pauses_resumes_and_waits_in_the_triggerer() -> None:
    # At 20 times real speed the launch's 240 s take 12 s: it is running when it is paused
    # and resumed, and completes while the sensor waits in the triggerer.
    with WrkSimulator(dialect="seed", speed=20) as sim:
        launch_id = sim.add_launch(duration=240)
        result = run_dag(
            "example_wrk_pause_resume_wait",
            dags_folder=EXAMPLE_DAGS,
            connections={"wrk_default": connection_json(sim)},
            conf={"launch_id": launch_id},
        )
        final = sim.launch(launch_id)

    assert result.state == "success", result.output[-8000:]
    assert set(result.states().values()) == {"success"}
    assert actions_on(sim, launch_id) == ["pause", "resume"]
    assert result.xcom("pause")["state"]["status"] == "paused"
    assert result.xcom("resume")["state"]["status"] == "running"
    waited = result.xcom("wait_for_completion")
    assert waited["launch_id"] == launch_id
    assert waited["state"]["status"] == "completed"
    assert final["state"]["status"] == "completed"
    assert result.rendered("pause")["launch_id"] == str(launch_id)
    assert "deferring the wait to the triggerer" in result.log("wait_for_completion")
    if AIRFLOW_3:
        (stored,) = result.trigger_kwargs("wait_for_completion")
        assert f'"launch_id": "{launch_id}"' in stored
        assert sim.api_key not in stored


@dataclass
class PauseRunningRun:
    result: DagRunResult
    sim: WrkSimulator
    starts: dict[int, datetime]
    candidates: set[int]


@pytest.fixture(scope="module")
def pause_running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PauseRunningRun]:
    hour = timedelta(hours=1)
    second = timedelta(seconds=1)
    with WrkSimulator(dialect="seed", manual_clock=True) as sim:
        other = sim.add_wrkflow()
        launches = [
            # (start, status, wrkflow); the running ones of the example's wrkflow are candidates.
            (LOGICAL_DATE - hour - second, "running", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE - hour, "running", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE - hour / 2, "running", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE - hour / 4, "running", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE, "running", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE + second, "running", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE - hour / 2, "paused", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE - hour / 2, "completed", EXAMPLE_WRKFLOW),
            (LOGICAL_DATE - hour / 2, "running", other),
        ]
        starts: dict[int, datetime] = {}
        candidates: set[int] = set()
        for start, status, wrkflow in launches:
            launch_id = sim.add_launch(
                wrkflow_uuid=wrkflow, status=status, start_date=start, duration=3600
            )
            starts[launch_id] = start
            if status == "running" and wrkflow == EXAMPLE_WRKFLOW:
                candidates.add(launch_id)

        result = run_dag(
            "example_wrk_pause_running",
            dags_folder=EXAMPLE_DAGS,
            connections={"wrk_default": connection_json(sim)},
            logical_date=LOGICAL_DATE,
        )
        yield PauseRunningRun(result, sim, starts, candidates)


def test_example_pause_running_pauses_then_resumes_each_running_launch_of_its_interval(
    pause_running: PauseRunningRun,
) -> None:
    result, sim = pause_running.result, pause_running.sim
    begin, end = result.data_interval
    assert begin is not None and end is not None
    inside = {
        launch_id
        for launch_id in pause_running.candidates
        if begin <= pause_running.starts[launch_id] < end
    }

    assert result.state == "success", result.output[-8000:]
    assert end == LOGICAL_DATE
    assert inside, "launches started in the past hour are in the interval"
    assert sorted(result.xcom("list_running"), key=str) == sorted(inside, key=str)
    for launch_id in pause_running.starts:
        expected = ["pause", "resume"] if launch_id in inside else []
        assert actions_on(sim, launch_id) == expected, launch_id
    for launch_id in inside:
        assert sim.launch(launch_id)["state"]["status"] == "running"

    states = result.states()
    for task_id in ("pause", "resume"):
        mapped = {index: state for (task, index), state in states.items() if task == task_id}
        assert mapped == dict.fromkeys(range(len(inside)), "success"), task_id
    rendered = result.rendered("list_running")
    assert datetime.fromisoformat(rendered["lower_start_date"]) == begin
    assert datetime.fromisoformat(rendered["upper_start_date"]) == end - timedelta(microseconds=1)
    assert rendered["wrkflow_uuid"] == EXAMPLE_WRKFLOW


def test_example_pause_running_looks_at_the_past_hour(pause_running: PauseRunningRun) -> None:
    begin, end = pause_running.result.data_interval

    assert (begin, end) == (LOGICAL_DATE - timedelta(hours=1), LOGICAL_DATE)
    paused = {i for i in pause_running.starts if actions_on(pause_running.sim, i, "pause")}
    # From the hour's first second up to, not including, its end: the launch started at the
    # interval's end is the next run's.
    assert len(paused) == 3
    started_at_end = [i for i, start in pause_running.starts.items() if start == LOGICAL_DATE]
    assert [actions_on(pause_running.sim, i) for i in started_at_end] == [[]]


def test_example_wait_strict_succeeds_for_a_clean_launch_in_reschedule_mode() -> None:
    with WrkSimulator(dialect="seed", manual_clock=True) as sim, Stagehand() as stagehand:
        launch_id = sim.add_launch(duration=3600)
        stagehand.after_reads(sim, launch_id, 1, lambda: sim.complete(launch_id))
        result = run_dag(
            "example_wrk_wait_strict",
            dags_folder=EXAMPLE_DAGS,
            connections={"wrk_default": connection_json(sim)},
            conf={"launch_id": launch_id},
        )

    assert result.state == "success", result.output[-8000:]
    assert result.task_state("wait_without_errors") == "success"
    assert result.reschedules("wait_without_errors") == 1
    assert len(reads_of(sim, launch_id)) == 2
    assert result.xcom("wait_without_errors")["state"]["status"] == "completed"


def test_example_wait_strict_fails_on_the_third_error_while_the_launch_runs() -> None:
    with WrkSimulator(dialect="seed", manual_clock=True) as sim:
        launch_id = sim.add_launch(duration=3600, num_errors=3)
        result = run_dag(
            "example_wrk_wait_strict",
            dags_folder=EXAMPLE_DAGS,
            connections={"wrk_default": connection_json(sim)},
            conf={"launch_id": launch_id},
        )
        status = sim.launch(launch_id)["state"]["status"]

    assert result.state == "failed"
    assert result.task_state("wait_without_errors") == "failed"
    log = result.log("wait_without_errors")
    assert f"Launch {launch_id} has 3 errors, more than max_errors=2" in log
    assert "AirflowFailException" in log
    assert result.reschedules("wait_without_errors") == 0
    assert len(reads_of(sim, launch_id)) == 1
    assert status == "running"
