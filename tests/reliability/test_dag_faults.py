"""Each example DAG runs to success while the API fails a seeded 30% of the requests.

Every DAG runs twice against the simulator, once without faults and once with random faults
(5xx, 429 with and without Retry-After, answers slower than the read timeout, dropped
connections, HTML error pages), plus one slow answer to the first pause and the first resume,
so that an action is applied on the server while the client sees a timeout and sends it again.
The request logs of both runs are compared, and every launch's history is rebuilt from the log:
each launch must be paused once and resumed once, however often the requests were retried.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wrk_provider.testing import Fault, RecordedRequest, WrkSimulator

from . import scenes
from .scenes import Scene
from .support import (
    EXAMPLE_DAGS,
    PAUSE_RESUME_WAIT,
    PAUSE_RUNNING,
    WAIT_STRICT,
    AirflowHome,
    Cues,
    DagTest,
    answered,
    connection_json,
    fault_counts,
    is_async,
    posts_of,
    reads_of,
    transitions,
)

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(900)]

FAULT_RATE = 0.3
FAULT_SEED = 89
TIMEOUT = 1.0
SLOW_ANSWER = 2.5  # seconds; a slow fault must outlast the read timeout
assert SLOW_ANSWER > TIMEOUT
RETRIES = {"timeout": TIMEOUT, "max_retries": 8, "retry_wait": 0.05, "retry_max_wait": 1}
MAX_ATTEMPTS = RETRIES["max_retries"] + 1


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    home = AirflowHome(Path(tmp_path_factory.mktemp("faults-home")), EXAMPLE_DAGS)
    home.migrate()
    return home


@dataclass
class Outcome:
    """One run of a DAG and what the simulator saw and holds afterwards."""

    result: DagTest
    states: dict[tuple[str, int], str]
    data_interval: tuple[datetime, datetime]
    requests: list[RecordedRequest]
    launches: dict[int, dict[str, Any]]

    def status(self, launch_id: int) -> str:
        return str(self.launches[launch_id]["state"]["status"])


def play(home: AirflowHome, dag_id: str, scene: Scene, *, faults: bool) -> Outcome:
    """Run ``dag_id`` against a new simulator that ``scene`` filled; with faults or without."""
    with WrkSimulator(manual_clock=True) as sim, Cues(sim) as cues:
        options = scene(sim, cues)
        if faults:
            sim.set_random_faults(rate=FAULT_RATE, seed=FAULT_SEED, slow_delay=SLOW_ANSWER)
            sim.inject("POST /launch/{id}/pause", Fault.slow(SLOW_ANSWER))
            sim.inject("POST /launch/{id}/resume", Fault.slow(SLOW_ANSWER))
        connection = connection_json(sim.url, sim.api_key, **RETRIES)
        result = home.dags_test(dag_id, connection=connection, **options)
        launches = {int(launch["launch_id"]): launch for launch in sim.launches()}
        states = home.task_states(dag_id, result.run_id)
        interval = home.data_interval(dag_id, result.run_id)
        return Outcome(result, states, interval, sim.requests, launches)


def check_success(outcome: Outcome) -> None:
    result = outcome.result
    assert result.returncode == 0, result.tail()
    assert result.state == "success", result.tail()


def check_paused_and_resumed_once(outcome: Outcome, launch_id: int) -> tuple[int, int]:
    """The launch went running -> paused -> running exactly once; return the pause and resume
    requests the server applied."""
    assert transitions(outcome.requests, launch_id, "running") == [
        "running->paused",
        "paused->running",
    ]
    applied = []
    for action in ("pause", "resume"):
        attempts = posts_of(outcome.requests, launch_id, action)
        done = [attempt for attempt in attempts if answered(attempt)]
        # One request, retried: each attempt the server applied was answered late or lost.
        assert 1 <= len(done) <= len(attempts) <= MAX_ATTEMPTS, (action, attempts)
        applied.append(len(done))
    return applied[0], applied[1]


def compare(
    report: Callable[[str, object], None],
    clean: Outcome,
    faulty: Outcome,
    *,
    late_answers: int | None = None,
) -> None:
    """The fault-free run saw no fault; the faulty run saw some and stayed within its retries.

    With ``late_answers`` (the slow answers scripted for the run), the workers' requests must
    account exactly for the fault-free run: the same requests, plus one more attempt for each
    error answer and dropped connection, and one for each answer that came too late.
    """
    minimum, total = len(clean.requests), len(faulty.requests)
    faults = fault_counts(faulty.requests)
    report("requests without faults", minimum)
    report("requests under faults", total)
    report("overhead", f"x{total / minimum:.2f}")
    report("faults seen (status: count; 0 = dropped)", faults)
    seconds = (round(clean.result.seconds, 1), round(faulty.result.seconds, 1))
    report("dags test seconds (clean, faulty)", seconds)

    assert fault_counts(clean.requests) == {}
    assert sum(faults.values()) >= 1
    assert total <= MAX_ATTEMPTS * minimum
    if late_answers is not None:
        sync = [request for request in faulty.requests if not is_async(request)]
        sync_clean = [request for request in clean.requests if not is_async(request)]
        errors = sum(fault_counts(sync).values())
        assert len(sync) - errors - len(sync_clean) >= late_answers
        report(
            "worker requests: fault-free + errors + late answers",
            (len(sync_clean), errors, len(sync) - errors - len(sync_clean)),
        )


# example_wrk_pause_resume_wait: pause, resume, then wait in the triggerer.


def test_pause_resume_wait_under_faults(home: AirflowHome, report: Callable[..., None]) -> None:
    clean = play(home, PAUSE_RESUME_WAIT, scenes.pause_resume_wait, faults=False)
    faulty = play(home, PAUSE_RESUME_WAIT, scenes.pause_resume_wait, faults=True)

    [launch_id] = clean.launches
    for outcome in (clean, faulty):
        check_success(outcome)
        assert outcome.states == {
            ("pause", -1): "success",
            ("resume", -1): "success",
            ("wait_for_completion", -1): "success",
        }
        assert outcome.status(launch_id) == "completed"
        assert outcome.result.lines("deferring the wait to the triggerer")
        assert sum(map(is_async, reads_of(outcome.requests, launch_id))) >= 1
    assert check_paused_and_resumed_once(clean, launch_id) == (1, 1)
    assert len(posts_of(clean.requests, launch_id, "pause")) == 1
    pauses, resumes = check_paused_and_resumed_once(faulty, launch_id)
    # The late answer was applied, and so was the retry, which changed nothing.
    assert pauses >= 2
    assert resumes >= 2
    report("pause / resume requests applied under faults", (pauses, resumes))
    compare(report, clean, faulty, late_answers=2)


# example_wrk_pause_running: list the hour's running launches, pause and resume each one.


def test_pause_running_under_faults(home: AirflowHome, report: Callable[..., None]) -> None:
    clean = play(home, PAUSE_RUNNING, scenes.pause_running, faults=False)
    faulty = play(home, PAUSE_RUNNING, scenes.pause_running, faults=True)

    hour = (scenes.RUN_AT - timedelta(hours=1), scenes.RUN_AT)
    for outcome in (clean, faulty):
        check_success(outcome)
        assert outcome.data_interval == hour
        assert outcome.states == {
            ("list_running", -1): "success",
            **{("pause", index): "success" for index in range(3)},
            **{("resume", index): "success" for index in range(3)},
        }
        for launch_id in scenes.PAUSE_RUNNING_TARGETS:
            assert outcome.status(launch_id) == "running"
        for launch_id in scenes.PAUSE_RUNNING_BYSTANDERS:
            for action in ("pause", "resume"):
                assert posts_of(outcome.requests, launch_id, action) == []
        assert outcome.status(1004) == "paused"
        assert outcome.status(1005) == "completed"
    for launch_id in scenes.PAUSE_RUNNING_TARGETS:
        assert check_paused_and_resumed_once(clean, launch_id) == (1, 1)
    applied = {
        launch_id: check_paused_and_resumed_once(faulty, launch_id)
        for launch_id in scenes.PAUSE_RUNNING_TARGETS
    }
    report("pause / resume requests applied under faults, per launch", applied)
    # One late answer to a pause and one to a resume: each was applied, and so was its retry.
    assert sum(pauses for pauses, _ in applied.values()) >= 4
    assert sum(resumes for _, resumes in applied.values()) >= 4
    compare(report, clean, faulty, late_answers=2)


# example_wrk_wait_strict: wait in reschedule mode.


def test_wait_strict_under_faults(home: AirflowHome, report: Callable[..., None]) -> None:
    clean = play(home, WAIT_STRICT, scenes.wait_strict, faults=False)
    faulty = play(home, WAIT_STRICT, scenes.wait_strict, faults=True)

    [launch_id] = clean.launches
    for outcome in (clean, faulty):
        check_success(outcome)
        assert outcome.states == {("wait_without_errors", -1): "success"}
        assert outcome.status(launch_id) == "completed"
        assert not any(request.method == "POST" for request in outcome.requests)
        assert not any(map(is_async, outcome.requests))
    assert len(clean.requests) == 2
    # Between its two looks the sensor gave its worker slot back.
    assert home.reschedules(WAIT_STRICT, clean.result.run_id, "wait_without_errors") == 1
    compare(report, clean, faulty)
