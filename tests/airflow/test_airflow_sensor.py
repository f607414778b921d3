"""``WrkLaunchSensor`` in every mode, in one real DAG run against two simulators.

The simulators' clocks stand still, so no launch finishes by itself: a stagehand completes,
resumes or spoils a launch once the sensor has looked at it a given number of times.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from wrk_airflow_support import (
    AIRFLOW_3,
    DagRunResult,
    Stagehand,
    connection_json,
    reads_of,
    run_dag,
    write_spec_dag,
)

from wrk_provider.testing import WrkSimulator

pytestmark = pytest.mark.integration

DAG_ID = "wrk_test_sensor"
MISSING = 4999
QUICK = {"poke_interval": 0.5, "timeout": 60}


@dataclass
class SensorRun:
    result: DagRunResult
    seed: WrkSimulator
    openapi: WrkSimulator
    stagehand: Stagehand


def _tasks() -> list[dict[str, object]]:
    def sensor(task_id: str, launch_id: int, **kwargs: object) -> dict[str, object]:
        return {"task_id": task_id, "kind": "sensor", "kwargs": {"launch_id": launch_id, **kwargs}}

    deferred = {"deferrable": True, **QUICK}
    return [
        sensor("poke_success", 4001, mode="poke", **QUICK),
        sensor("reschedule_success", 4002, mode="reschedule", **QUICK),
        sensor("deferred_success", 4003, **deferred),
        sensor("deferred_already_done", 4004, **deferred),
        sensor("poke_through_a_pause", 4011, mode="poke", **QUICK),
        sensor("deferred_openapi", 5001, wrk_conn_id="wrk_openapi", **deferred),
        sensor("poke_openapi", 5002, wrk_conn_id="wrk_openapi", mode="poke", **QUICK),
        sensor("not_found", MISSING, mode="poke", **QUICK),
        sensor("too_many_errors", 4005, mode="poke", max_errors=2, **QUICK),
        sensor("paused_fails", 4006, mode="poke", fail_on_paused=True, **QUICK),
        sensor("unknown_status", 4007, mode="poke", **QUICK),
        sensor("deferred_errors_while_waiting", 4010, max_errors=1, **deferred),
        sensor("deferred_timeout", 4009, deferrable=True, poke_interval=0.5, timeout=2),
        sensor("deferred_not_found_soft_fail", 4998, soft_fail=True, **deferred),
        sensor("poke_not_found_soft_fail", 4998, mode="poke", soft_fail=True, **QUICK),
        sensor(
            "deferred_timeout_soft_fail",
            4008,
            deferrable=True,
            poke_interval=0.5,
            timeout=2,
            soft_fail=True,
        ),
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SensorRun]:
    with (
        WrkSimulator(dialect="seed", manual_clock=True) as seed,
        WrkSimulator(dialect="openapi", manual_clock=True) as openapi,
        Stagehand() as stagehand,
    ):
        for launch_id in (4001, 4002, 4003, 4007, 4008, 4009, 4010):
            seed.add_launch(launch_id=launch_id, duration=3600)
        seed.add_launch(launch_id=4004, status="completed")
        seed.add_launch(launch_id=4005, duration=3600, num_errors=5)
        seed.add_launch(launch_id=4006, status="paused", duration=3600)
        seed.add_launch(launch_id=4011, status="paused", duration=3600)
        seed.set_raw_status(4007, "archived")
        openapi.add_launch(launch_id=5001, duration=3600)
        openapi.add_launch(launch_id=5002, duration=3600)

        for launch_id in (4001, 4002):
            stagehand.after_reads(seed, launch_id, 1, lambda i=launch_id: seed.complete(i))
        # Deferred: the first look is the sensor's own, before it defers; the next, the trigger's.
        stagehand.after_reads(seed, 4003, 2, lambda: seed.complete(4003))
        stagehand.after_reads(openapi, 5001, 2, lambda: openapi.complete(5001))
        stagehand.after_reads(openapi, 5002, 2, lambda: openapi.complete(5002))
        stagehand.after_reads(seed, 4010, 2, lambda: seed.set_errors(4010, 3))
        stagehand.after_reads(seed, 4011, 1, lambda: seed.resume(4011))
        stagehand.after_reads(seed, 4011, 2, lambda: seed.complete(4011))

        folder: Path = tmp_path_factory.mktemp("sensor_dags")
        write_spec_dag(folder, DAG_ID, _tasks())
        result = run_dag(
            DAG_ID,
            dags_folder=folder,
            connections={
                "wrk_default": connection_json(seed),
                "wrk_openapi": connection_json(openapi),
            },
        )
        yield SensorRun(result, seed, openapi, stagehand)


def test_every_task_ended_as_expected(run: SensorRun) -> None:
    states = {task_id: state for (task_id, _), state in run.result.states().items()}
    assert len(states) == len(_tasks())
    assert states.pop("deferred_not_found_soft_fail") == "skipped"

    assert {task_id for task_id, state in states.items() if state == "success"} == {
        "poke_success",
        "reschedule_success",
        "deferred_success",
        "deferred_already_done",
        "poke_through_a_pause",
        "deferred_openapi",
        "poke_openapi",
    }, run.result.output[-8000:]
    assert {task_id for task_id, state in states.items() if state == "failed"} == {
        "not_found",
        "too_many_errors",
        "paused_fails",
        "unknown_status",
        "deferred_errors_while_waiting",
        "deferred_timeout",
    }
    assert {task_id for task_id, state in states.items() if state == "skipped"} == {
        "deferred_timeout_soft_fail",
        "poke_not_found_soft_fail",
    }
    assert run.stagehand.pending == []


# Waits that succeed.


@pytest.mark.parametrize(
    ("task_id", "launch_id"), [("poke_success", 4001), ("reschedule_success", 4002)]
)
def test_poke_and_reschedule_modes_wait_until_the_launch_completes(
    run: SensorRun, task_id: str, launch_id: int
) -> None:
    assert run.result.task_state(task_id) == "success"
    assert len(reads_of(run.seed, launch_id)) == 2, "running at the first look, done at the next"
    returned = run.result.xcom(task_id)
    assert returned["launch_id"] == launch_id
    assert returned["state"]["status"] == "completed"
    assert f"Launch {launch_id} completed" in run.result.log(task_id)
    assert run.result.xcom(task_id, "wrk_launch_url") == f"https://app.wrk.com/launches/{launch_id}"


def test_poke_mode_keeps_one_client_across_its_looks(run: SensorRun) -> None:
    assert run.result.task_state("poke_openapi") == "success"
    # The first look learns that the server pages its listings, which ignore the launch_id
    # filter; the client remembers it, so every later look reads the launch by its own path.
    assert [request.path for request in reads_of(run.openapi, 5002)] == [
        "/launch",
        "/launch/5002",
        "/launch/5002",
    ]


def test_reschedule_mode_gives_the_slot_back_between_looks(run: SensorRun) -> None:
    assert run.result.reschedules("reschedule_success") >= 1
    assert run.result.reschedules("poke_success") == 0


def test_a_pause_is_waited_through_unless_fail_on_paused(run: SensorRun) -> None:
    assert run.result.task_state("poke_through_a_pause") == "success"
    assert len(reads_of(run.seed, 4011)) == 3
    assert run.result.xcom("poke_through_a_pause")["state"]["status"] == "completed"
    log = run.result.log("poke_through_a_pause")
    assert log.index("Launch 4011 paused") < log.index("Launch 4011 running")


@pytest.mark.parametrize(
    ("task_id", "conn"), [("deferred_success", "seed"), ("deferred_openapi", "openapi")]
)
def test_deferrable_mode_defers_when_not_done_and_returns_the_launch(
    run: SensorRun, task_id: str, conn: str
) -> None:
    sim = run.seed if conn == "seed" else run.openapi
    launch_id = 4003 if conn == "seed" else 5001

    assert run.result.task_state(task_id) == "success"
    assert f"Launch {launch_id} is not completed yet; deferring" in run.result.log(task_id)
    # The sensor's own look, the trigger's first (running) and one that saw it completed.
    reads = reads_of(sim, launch_id)
    assert len(reads) >= 3
    # The trigger lets one interval pass after the sensor's look before it looks again.
    assert reads[1].time - reads[0].time >= QUICK["poke_interval"]
    returned = run.result.xcom(task_id)
    assert str(returned["launch_id"]) == str(launch_id)
    assert returned["state"]["status"] == "completed"
    if AIRFLOW_3:  # ``dags test`` keeps the trigger row there, and none on Airflow 2
        (stored,) = run.result.trigger_kwargs(task_id)
        assert f'"launch_id": "{launch_id}"' in stored
        assert sim.api_key not in stored


def test_deferrable_mode_does_not_defer_for_a_completed_launch(run: SensorRun) -> None:
    assert run.result.task_state("deferred_already_done") == "success"
    assert len(reads_of(run.seed, 4004)) == 1
    log = run.result.log("deferred_already_done")
    assert "Launch 4004 completed" in log
    for sign_of_a_deferral in ("deferring", "running trigger in line", "new_state=deferred"):
        assert sign_of_a_deferral not in log
    assert run.result.trigger_kwargs("deferred_already_done") == []
    assert not [kwargs for kwargs in run.result.all_trigger_kwargs() if '"4004"' in kwargs]
    assert run.result.xcom("deferred_already_done")["state"]["status"] == "completed"


# Waits that fail, each naming the launch and the reason.


@pytest.mark.parametrize(
    ("task_id", "launch_id", "words"),
    [
        ("not_found", MISSING, ["not found"]),
        ("too_many_errors", 4005, ["has 5 errors", "max_errors=2"]),
        ("paused_fails", 4006, ["is paused", "fail_on_paused"]),
        ("unknown_status", 4007, ["'archived'", "does not know"]),
        ("deferred_errors_while_waiting", 4010, ["has 3 errors", "max_errors=1"]),
    ],
)
def test_a_failed_wait_names_the_launch_and_the_reason(
    run: SensorRun, task_id: str, launch_id: int, words: list[str]
) -> None:
    assert run.result.task_state(task_id) == "failed"
    failure = [
        line for line in run.result.log(task_id).splitlines() if "AirflowFailException" in line
    ]
    assert failure, run.result.log(task_id)[-3000:]
    assert f"Launch {launch_id}" in failure[-1]
    for word in words:
        assert word in failure[-1]


def test_too_many_errors_fails_at_the_first_look_while_the_launch_still_runs(
    run: SensorRun,
) -> None:
    assert len(reads_of(run.seed, 4005)) == 1
    assert run.seed.launch(4005)["state"]["status"] == "running"


def test_the_deferred_timeout_fails_as_a_sensor_timeout(run: SensorRun) -> None:
    assert run.result.task_state("deferred_timeout") == "failed"
    log = run.result.log("deferred_timeout")
    assert "AirflowSensorTimeout" in log
    assert "Launch 4009 did not complete before the sensor's timeout" in log
    assert len(reads_of(run.seed, 4009)) >= 3, "it looked until the deadline"
    assert run.seed.launch(4009)["state"]["status"] == "running"


def test_the_deferred_timeout_with_soft_fail_skips_the_task(run: SensorRun) -> None:
    assert run.result.task_state("deferred_timeout_soft_fail") == "skipped"
    assert len(reads_of(run.seed, 4008)) >= 3


def test_soft_fail_skips_a_poke_mode_wait_that_fails(run: SensorRun) -> None:
    assert run.result.task_state("poke_not_found_soft_fail") == "skipped"
    assert len(reads_of(run.seed, 4998)) == 2, "one look by each of the two soft_fail sensors"


def test_soft_fail_skips_a_deferrable_wait_that_fails_at_the_first_look(run: SensorRun) -> None:
    assert run.result.task_state("deferred_not_found_soft_fail") == "skipped"
