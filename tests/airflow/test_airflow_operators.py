"""The pause, resume and list operators in one real DAG run against two simulators.

Every task is independent, so one that fails (on purpose) leaves the others alone; each test
then reads one task's state, XComs and log from the run, and the requests the simulators saw.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from wrk_airflow_support import (
    AIRFLOW_3,
    LOGICAL_DATE,
    DagRunResult,
    actions_on,
    connection_json,
    reads_of,
    run_dag,
    write_spec_dag,
)

from wrk_provider.testing import WrkSimulator

pytestmark = pytest.mark.integration

DAG_ID = "wrk_test_operators"
WRKFLOW = "5b0f3c2e-8a8e-4c57-9d1a-3f1f2e0c9a01"
OTHER_WRKFLOW = "0c8e9a55-2f7d-4b1e-a3c4-6d5e4f3a2b10"
NEXT_DAY = datetime(2024, 6, 2, tzinfo=timezone.utc)
CUSTOM_UI = "https://wrk.example.test/app/launch/{launch_id}"
EU_UI = "https://eu.wrk.example.test/"
LIST_FILTERS = {
    "wrkflow_uuid": WRKFLOW,
    "lower_start_date": "{{ data_interval_start }}",
    "upper_start_date": "{{ macros.ds_add(ds, 1) }}",
}


@dataclass
class OperatorsRun:
    result: DagRunResult
    seed: WrkSimulator
    openapi: WrkSimulator


def _add_listed_launches(sim: WrkSimulator, first_id: int) -> None:
    """Six launches around the logical day; ids ``first_id`` to ``first_id + 5``."""
    second = timedelta(seconds=1)
    for offset, (status, start, wrkflow) in enumerate(
        [
            ("running", LOGICAL_DATE - timedelta(minutes=1), WRKFLOW),  # before the day's start
            ("running", LOGICAL_DATE, WRKFLOW),  # on the lower bound
            ("paused", LOGICAL_DATE + timedelta(hours=1), WRKFLOW),
            ("completed", NEXT_DAY, WRKFLOW),  # on the upper bound
            ("running", NEXT_DAY + second, WRKFLOW),  # after it
            ("running", LOGICAL_DATE + timedelta(hours=2), OTHER_WRKFLOW),
        ]
    ):
        sim.add_launch(
            launch_id=first_id + offset, wrkflow_uuid=wrkflow, status=status, start_date=start
        )


def _tasks() -> list[dict[str, object]]:
    def task(task_id: str, kind: str, **kwargs: object) -> dict[str, object]:
        return {"task_id": task_id, "kind": kind, "kwargs": kwargs}

    openapi = {"wrk_conn_id": "wrk_openapi", "confirm_interval": 0.2}
    return [
        task("pause_running", "pause", launch_id=2001),
        task("pause_paused", "pause", launch_id=2002),
        task("resume_paused", "resume", launch_id="2003"),
        task("resume_running", "resume", launch_id=2004),
        task("pause_completed", "pause", launch_id=2005),
        task("resume_completed", "resume", launch_id=2006),
        task("pause_custom_ui", "pause", launch_id=2007, wrk_conn_id="wrk_custom_ui"),
        task("pause_eu_ui", "pause", launch_id=2008, wrk_conn_id="wrk_eu_ui"),
        task("pause_confirmed", "pause", launch_id=3001, **openapi),
        task("resume_confirmed", "resume", launch_id=3002, **openapi),
        task("pause_unconfirmed", "pause", launch_id=3003, confirm=False, **openapi),
        task(
            "pause_confirm_timeout",
            "pause",
            launch_id=3004,
            wrk_conn_id="wrk_openapi",
            confirm_timeout=0.3,
            confirm_interval=0.1,
        ),
        task("list_ids", "list", **LIST_FILTERS),
        task("list_dicts", "list", status_code=2, return_dicts=True, **LIST_FILTERS),
        task("list_openapi", "list", wrk_conn_id="wrk_openapi", **LIST_FILTERS),
    ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OperatorsRun]:
    with (
        WrkSimulator(dialect="seed", manual_clock=True) as seed,
        WrkSimulator(dialect="openapi", manual_clock=True, action_delay=1.0) as openapi,
    ):
        for launch_id, status in [
            (2001, "running"),
            (2002, "paused"),
            (2003, "paused"),
            (2004, "running"),
            (2005, "completed"),
            (2006, "completed"),
            (2007, "running"),
            (2008, "running"),
        ]:
            seed.add_launch(launch_id=launch_id, status=status, duration=3600)
        for launch_id, status in [
            (3001, "running"),
            (3002, "paused"),
            (3003, "running"),
            (3004, "running"),
        ]:
            openapi.add_launch(launch_id=launch_id, status=status, duration=3600)
        _add_listed_launches(seed, 2101)
        _add_listed_launches(openapi, 3101)

        folder: Path = tmp_path_factory.mktemp("operator_dags")
        write_spec_dag(folder, DAG_ID, _tasks())
        result = run_dag(
            DAG_ID,
            dags_folder=folder,
            logical_date=LOGICAL_DATE,
            connections={
                "wrk_default": connection_json(seed),
                "wrk_custom_ui": connection_json(seed, ui_url=CUSTOM_UI),
                "wrk_eu_ui": connection_json(seed, ui_url=EU_UI),
                "wrk_openapi": connection_json(openapi),
            },
        )
        yield OperatorsRun(result, seed, openapi)


def test_every_task_ran_to_the_expected_end(run: OperatorsRun) -> None:
    expected_failures = {"pause_completed", "resume_completed", "pause_confirm_timeout"}

    states = {task_id: state for (task_id, _), state in run.result.states().items()}

    assert set(states) == {task["task_id"] for task in _tasks()}
    failed = {task_id for task_id, state in states.items() if state == "failed"}
    assert failed == expected_failures, run.result.output[-8000:]
    assert {states[t] for t in states if t not in expected_failures} == {"success"}
    assert run.result.state == "failed"


# Pause and resume, and their idempotence.


def test_pausing_a_running_launch_sends_one_pause_and_returns_it_paused(run: OperatorsRun) -> None:
    assert run.result.task_state("pause_running") == "success"
    assert actions_on(run.seed, 2001) == ["pause"]
    assert run.seed.launch(2001)["state"]["status"] == "paused"
    returned = run.result.xcom("pause_running")
    assert returned["launch_id"] == 2001
    assert returned["state"]["status"] == "paused"


def test_pausing_a_paused_launch_sends_no_request(run: OperatorsRun) -> None:
    assert run.result.task_state("pause_paused") == "success"
    assert run.seed.count("POST", "/launch/2002/pause") == 0
    assert actions_on(run.seed, 2002) == []
    assert run.result.xcom("pause_paused")["state"]["status"] == "paused"
    assert "Launch 2002 is already paused" in run.result.log("pause_paused")


def test_resuming_a_paused_launch_sends_one_resume_and_returns_it_running(
    run: OperatorsRun,
) -> None:
    assert run.result.task_state("resume_paused") == "success"
    assert actions_on(run.seed, 2003) == ["resume"]
    assert run.seed.launch(2003)["state"]["status"] == "running"
    assert run.result.xcom("resume_paused")["state"]["status"] == "running"
    assert run.result.rendered("resume_paused")["launch_id"] == "2003"


def test_resuming_a_running_launch_sends_no_request(run: OperatorsRun) -> None:
    assert run.result.task_state("resume_running") == "success"
    assert run.seed.count("POST", "/launch/2004/resume") == 0
    assert actions_on(run.seed, 2004) == []
    assert "Launch 2004 is already running" in run.result.log("resume_running")


@pytest.mark.parametrize(
    ("task_id", "launch_id"), [("pause_completed", 2005), ("resume_completed", 2006)]
)
def test_a_completed_launch_is_refused_without_a_request(
    run: OperatorsRun, task_id: str, launch_id: int
) -> None:
    assert run.result.task_state(task_id) == "failed"
    assert actions_on(run.seed, launch_id) == []
    log = run.result.log(task_id)
    assert f"Launch {launch_id} is completed" in log
    assert "AirflowFailException" in log


# Wrk answering 202: the read-back.


@pytest.mark.parametrize(
    ("task_id", "launch_id", "action", "target"),
    [("pause_confirmed", 3001, "pause", "paused"), ("resume_confirmed", 3002, "resume", "running")],
)
def test_an_accepted_action_is_confirmed_by_reading_the_launch_back(
    run: OperatorsRun, task_id: str, launch_id: int, action: str, target: str
) -> None:
    assert run.result.task_state(task_id) == "success"
    (post,) = [
        request
        for request in run.openapi.requests
        if request.path == f"/launch/{launch_id}/{action}"
    ]
    assert post.status == 202
    read_backs = [
        request for request in reads_of(run.openapi, launch_id) if request.time > post.time
    ]
    # Wrk applies the action a second after accepting it: the first read-backs show the old state.
    assert len(read_backs) >= 3
    assert read_backs[-1].time - post.time >= 0.9
    assert run.result.xcom(task_id)["state"]["status"] == target
    assert run.openapi.launch(launch_id)["state"]["status"] == target


def test_without_confirm_the_operator_reads_the_launch_once_and_does_not_wait(
    run: OperatorsRun,
) -> None:
    assert run.result.task_state("pause_unconfirmed") == "success"
    (post,) = [request for request in run.openapi.requests if request.path == "/launch/3003/pause"]
    assert post.status == 202
    (read_back,) = [r for r in reads_of(run.openapi, 3003) if r.time > post.time]
    assert read_back.time - post.time < 0.9, "read at once, before Wrk applies the pause"
    assert run.result.xcom("pause_unconfirmed")["state"]["status"] == "running"
    assert "not waiting to see it take effect" in run.result.log("pause_unconfirmed")

    deadline = time.monotonic() + 3
    while run.openapi.launch(3003)["state"]["status"] != "paused" and time.monotonic() < deadline:
        time.sleep(0.05)
    assert run.openapi.launch(3003)["state"]["status"] == "paused", "Wrk did apply it later"


def test_an_action_not_seen_within_confirm_timeout_fails_with_a_clear_message(
    run: OperatorsRun,
) -> None:
    assert run.result.task_state("pause_confirm_timeout") == "failed"
    assert actions_on(run.openapi, 3004) == ["pause"]
    log = run.result.log("pause_confirm_timeout")
    assert "Launch 3004 still shows running" in log
    assert "confirm_timeout" in log and "confirm=False" in log


# Listing.


def test_list_returns_ids_newest_first_within_the_rendered_dates(run: OperatorsRun) -> None:
    assert run.result.task_state("list_ids") == "success"
    assert run.result.xcom("list_ids") == [2104, 2103, 2102]

    rendered = run.result.rendered("list_ids")
    assert datetime.fromisoformat(rendered["lower_start_date"]) == LOGICAL_DATE
    assert rendered["upper_start_date"] == "2024-06-02"
    assert rendered["wrkflow_uuid"] == WRKFLOW
    sent = [r.query for r in run.seed.requests if r.path == "/launch" and "wrkflow_uuid" in r.query]
    assert {"lower_start_date": str(int(LOGICAL_DATE.timestamp()))}.items() <= sent[0].items()
    assert {"upper_start_date": str(int(NEXT_DAY.timestamp()))}.items() <= sent[0].items()


def test_list_with_return_dicts_returns_the_launches(run: OperatorsRun) -> None:
    assert run.result.task_state("list_dicts") == "success"
    (launch,) = run.result.xcom("list_dicts")
    assert launch["launch_id"] == 2103
    assert launch["wrkflow_uuid"] == WRKFLOW
    assert launch["start_date"] == int((LOGICAL_DATE + timedelta(hours=1)).timestamp())
    assert launch["state"]["status"] == "paused"
    assert run.result.xcom("list_dicts", "wrk_launch_url") == "https://app.wrk.com/launches/2103"


def test_list_gives_the_same_launches_from_the_published_api(run: OperatorsRun) -> None:
    """That API ignores the filters: the operator applies them itself."""
    assert run.result.task_state("list_openapi") == "success"
    assert [str(launch_id) for launch_id in run.result.xcom("list_openapi")] == [
        "3104",
        "3103",
        "3102",
    ]


# The extra link.


@pytest.mark.parametrize(
    ("task_id", "url"),
    [
        ("pause_running", "https://app.wrk.com/launches/2001"),
        ("pause_custom_ui", "https://wrk.example.test/app/launch/2007"),
        ("pause_eu_ui", "https://eu.wrk.example.test/launches/2008"),
    ],
)
def test_the_launch_link_points_at_the_launch_in_the_wrk_app(
    run: OperatorsRun, task_id: str, url: str
) -> None:
    assert run.result.task_state(task_id) == "success"
    assert run.result.xcom(task_id, "wrk_launch_url") == url

    if AIRFLOW_3:  # the task stores each extra link's URL as it ends; the UI shows that one
        assert run.result.xcom(task_id, "_link_WrkLaunchLink") == url
    else:  # the webserver asks the link class, which reads the task's XCom
        from airflow.models.taskinstancekey import TaskInstanceKey

        from wrk_provider.links.wrk import WrkLaunchLink

        key = TaskInstanceKey(DAG_ID, task_id, run.result.run_id, try_number=1, map_index=-1)
        assert WrkLaunchLink().get_link(None, ti_key=key) == url
