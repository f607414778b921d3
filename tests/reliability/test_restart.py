"""A deferred wait survives its triggerer being killed, on a real Airflow deployment.

Two runs of ``example_wrk_pause_resume_wait`` pause, resume and then wait for their launches in
the triggerer. Once both waits are deferred and polling, the triggerer is killed with SIGKILL.
One launch completes while no triggerer runs; then a new triggerer starts, and the other
launch completes only after the new triggerer has looked at it. Both runs must succeed, each
launch having been paused once and resumed once.
"""

from __future__ import annotations

import json
import secrets
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.fernet import Fernet

from wrk_provider.testing import RecordedRequest, WrkSimulator

from .deployment import Deployment
from .scan import find, scan_home, secret_forms, unwrap
from .support import (
    AIRFLOW_3,
    EXAMPLE_DAGS,
    PAUSE_RESUME_WAIT,
    AirflowHome,
    connection_json,
    is_async,
    looks_at,
    transitions,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

SENSOR = "wait_for_completion"
TASKS = {"pause", "resume", SENSOR}
RETRIES = {"timeout": 5, "max_retries": 4, "retry_wait": 0.2, "retry_max_wait": 2}
#: Both cases share one deployment and one triggerer restart.
PICKUP = "pickup"  # completes after the new triggerer has looked at it
OUTAGE = "outage"  # completes while no triggerer runs


@dataclass
class Run:
    run_id: str
    launch_id: int


@dataclass
class Restart:
    """What the deployment went through, and what it and the simulator hold afterwards."""

    root: Path
    home: AirflowHome
    api_key: str
    runs: dict[str, Run]
    states: dict[str, str]
    launches: dict[int, dict[str, Any]]
    requests: list[RecordedRequest]
    killed_at: float
    #: The trigger table's rows while both waits were deferred: classpath and stored kwargs.
    triggers: list[tuple[str, str]]
    seconds: dict[str, float] = field(default_factory=dict)

    def task_states(self, case: str) -> dict[str, str]:
        found = self.home.task_states(PAUSE_RESUME_WAIT, self.runs[case].run_id)
        return {task_id: state for (task_id, _), state in found.items()}

    def sensor_row(self, case: str) -> tuple[Any, ...]:
        [row] = self.home.query(
            "SELECT try_number, state FROM task_instance WHERE dag_id = ? AND run_id = ? "
            "AND task_id = ?",
            PAUSE_RESUME_WAIT,
            self.runs[case].run_id,
            SENSOR,
        )
        return row

    def returned(self, case: str) -> Any:
        [(value,)] = self.home.query(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? "
            "AND key = 'return_value'",
            PAUSE_RESUME_WAIT,
            self.runs[case].run_id,
            SENSOR,
        )
        return json.loads(value.decode() if isinstance(value, bytes) else value)


def _run_states(home: AirflowHome, runs: dict[str, Run]) -> dict[str, str]:
    found = {}
    for case, run in runs.items():
        rows = home.query(
            "SELECT state FROM dag_run WHERE dag_id = ? AND run_id = ?",
            PAUSE_RESUME_WAIT,
            run.run_id,
        )
        found[case] = rows[0][0] if rows else "missing"
    return found


def _sensor_states(home: AirflowHome, runs: dict[str, Run]) -> dict[str, str | None]:
    found = {}
    for case, run in runs.items():
        rows = home.query(
            "SELECT state FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ?",
            PAUSE_RESUME_WAIT,
            run.run_id,
            SENSOR,
        )
        found[case] = rows[0][0] if rows else None
    return found


def play(root: Path, home: AirflowHome, deployment: Deployment, sim: WrkSimulator) -> Restart:
    began = time.monotonic()
    seconds: dict[str, float] = {}
    deployment.start_all()
    _, seconds["start to DAG parsed"] = deployment.wait_for(
        "the DAG to be parsed",
        lambda: home.query("SELECT 1 FROM dag WHERE dag_id = ?", PAUSE_RESUME_WAIT) or None,
    )
    commands = time.monotonic()
    deployment.command("dags", "unpause", PAUSE_RESUME_WAIT)
    runs = {}
    for case in (PICKUP, OUTAGE):
        launch_id = sim.add_launch(duration=3600)
        runs[case] = Run(f"restart_{case}", launch_id)
        conf = json.dumps({"launch_id": launch_id})
        deployment.command(
            "dags", "trigger", PAUSE_RESUME_WAIT, "-r", runs[case].run_id, "-c", conf
        )
    seconds["airflow dags unpause, trigger, trigger"] = time.monotonic() - commands

    def deferred_and_polled() -> bool | None:
        failed = [case for case, state in _run_states(home, runs).items() if state == "failed"]
        assert not failed, f"{failed} failed before the restart:\n{deployment.log_tails()}"
        deferred = all(state == "deferred" for state in _sensor_states(home, runs).values())
        log = sim.requests
        polled = all(any(map(is_async, looks_at(log, run.launch_id))) for run in runs.values())
        return (deferred and polled) or None

    _, seconds["trigger to both waits deferred and polled"] = deployment.wait_for(
        "both waits to be deferred and polled by the triggerer", deferred_and_polled
    )
    triggers = home.query("SELECT classpath, kwargs FROM trigger")
    deployment.kill("triggerer")
    killed_at = time.time()
    sim.complete(runs[OUTAGE].launch_id)
    deployment.start("triggerer", "triggerer", "--skip-serve-logs")

    pickup = runs[PICKUP].launch_id

    def new_triggerer_looked() -> bool | None:
        log = looks_at(sim.requests, pickup)
        return any(is_async(request) and request.time > killed_at for request in log) or None

    _, seconds["kill to new triggerer polling"] = deployment.wait_for(
        "the new triggerer to look at the launch", new_triggerer_looked
    )
    sim.complete(pickup)

    def ended() -> dict[str, str] | None:
        states = _run_states(home, runs)
        return states if all(state in ("success", "failed") for state in states.values()) else None

    states, seconds["completion to both runs ended"] = deployment.wait_for(
        "both runs to end", ended
    )
    seconds["total"] = time.monotonic() - began
    launches = {int(launch["launch_id"]): launch for launch in sim.launches()}
    return Restart(
        root, home, sim.api_key, runs, states, launches, sim.requests, killed_at, triggers, seconds
    )


@pytest.fixture(scope="module")
def restart(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Restart]:
    root = Path(tmp_path_factory.mktemp("restart"))
    dags = root / "dags"
    dags.mkdir()
    shutil.copy(EXAMPLE_DAGS / f"{PAUSE_RESUME_WAIT}.py", dags)
    home = AirflowHome(root / "home", dags)
    home.migrate()
    key = "wrk-secret-" + secrets.token_hex(16)
    with WrkSimulator(api_key=key, dialect="openapi", manual_clock=True) as sim:
        connection = connection_json(sim.url, key, **RETRIES)
        deployment = Deployment(home, root / "process-logs", AIRFLOW_CONN_WRK_DEFAULT=connection)
        try:
            yield play(root, home, deployment, sim)
        finally:
            deployment.stop_all()


def check_run(restart: Restart, case: str) -> None:
    run = restart.runs[case]
    assert restart.states[case] == "success", restart.states
    assert restart.task_states(case) == dict.fromkeys(TASKS, "success")
    assert restart.launches[run.launch_id]["state"]["status"] == "completed"
    assert transitions(restart.requests, run.launch_id, "running") == [
        "running->paused",
        "paused->running",
    ]
    # The deferred task resumed from the trigger's event: it was not retried.
    assert restart.sensor_row(case) == (1, "success")
    returned = restart.returned(case)
    assert str(returned["launch_id"]) == str(run.launch_id)
    assert returned["state"]["status"] == "completed"


def test_wait_survives_a_killed_triggerer(restart: Restart, report: Callable[..., None]) -> None:
    for name, value in restart.seconds.items():
        report(f"seconds: {name}", round(value, 1))
    check_run(restart, PICKUP)
    launch_id = restart.runs[PICKUP].launch_id
    reads = looks_at(restart.requests, launch_id)
    before = [r for r in reads if is_async(r) and r.time <= restart.killed_at]
    after = [r for r in reads if is_async(r) and r.time > restart.killed_at]
    report("triggerer looks before / after the kill", (len(before), len(after)))
    assert before
    assert len(after) >= 2  # running, then completed


def test_launch_completed_while_no_triggerer_ran(
    restart: Restart, report: Callable[..., None]
) -> None:
    check_run(restart, OUTAGE)
    launch_id = restart.runs[OUTAGE].launch_id
    after = [
        request
        for request in looks_at(restart.requests, launch_id)
        if is_async(request) and request.time > restart.killed_at
    ]
    report("new triggerer looks", len(after))
    assert after


def test_the_deployment_keeps_no_api_key(restart: Restart, report: Callable[..., None]) -> None:
    """Task and process logs, the DAG folder and every value of the metadata DB."""
    forms = secret_forms(restart.api_key)
    findings, scanned = scan_home(restart.root, restart.home.db, restart.home.fernet_key, forms)
    report("scanned", scanned)
    assert scanned["log files"] >= 6
    assert findings == []
    # The triggers as they were stored while the waits were deferred. Airflow 2 encrypts their
    # kwargs; Airflow 3 stores what the worker sends as it is, so they must hold no secret.
    assert len(restart.triggers) == 2
    fernet = Fernet(restart.home.fernet_key.encode())
    stored = []
    for classpath, kwargs in restart.triggers:
        assert classpath == "wrk_provider.triggers.wrk.WrkLaunchTrigger"
        assert find(kwargs, forms, "trigger.kwargs") == []
        assert AIRFLOW_3 or not kwargs.startswith("{")
        plain = kwargs.encode() if kwargs.startswith("{") else fernet.decrypt(kwargs.encode())
        assert find(plain, forms, "trigger.kwargs (decrypted)") == []
        stored.append(unwrap(json.loads(plain)))
    report("a stored trigger's kwargs", stored[0])
    launch_ids = sorted(str(run.launch_id) for run in restart.runs.values())
    assert sorted(str(kwargs["launch_id"]) for kwargs in stored) == launch_ids
