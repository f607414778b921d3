"""When the API stays down, tasks fail in a time the retry policy bounds, and say why.

The API is down in three ways: every request answered 503, every answer slower than the read
timeout, or nothing listening (connection refused). Pause operators give up after their
retries; deferrable sensors, whose first look succeeds, give up in the triggerer after
``max_consecutive_failures`` failed looks in a row. One ``airflow dags test`` run holds every
case as an independent task, each with a simulator and a connection of its own; the time each
task took is read from the timestamps of its log lines.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wrk_provider.testing import Fault, RecordedRequest, WrkSimulator

from .support import AirflowHome, Cues, DagTest, answered, connection_json, is_async, moment

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(600)]

TIMEOUT = 1.0
MAX_RETRIES = 3
RETRY_WAIT = 0.1
RETRY_MAX_WAIT = 0.5
ATTEMPTS = MAX_RETRIES + 1
#: The longest one request can take, every attempt included.
REQUEST_BOUND = ATTEMPTS * (TIMEOUT + RETRY_MAX_WAIT)
POLL_INTERVAL = 1.0
MAX_CONSECUTIVE_FAILURES = 5  # the sensor's default
#: The longest the triggerer can take to give up: each look a full request, then a poll.
WAIT_BOUND = MAX_CONSECUTIVE_FAILURES * (REQUEST_BOUND + POLL_INTERVAL)
#: Time for Airflow to record the failure, on a busy machine.
SLACK = 5.0

LAUNCH_ID = 1001
DAG_ID = "wrk_api_down"
PAUSES = ["503", "slow", "refused"]
WAITS = ["503", "refused"]

DAG_SOURCE = f'''\
"""Pauses and deferred waits for a launch whose API is down, each task on its own connection."""

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from wrk_provider.operators.wrk import WrkPauseLaunchOperator
from wrk_provider.sensors.wrk import WrkLaunchSensor

with DAG("{DAG_ID}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    for kind in {PAUSES!r}:
        WrkPauseLaunchOperator(
            task_id=f"pause_{{kind}}", launch_id={LAUNCH_ID}, wrk_conn_id=f"wrk_pause_{{kind}}"
        )
    for kind in {WAITS!r}:
        WrkLaunchSensor(
            task_id=f"wait_{{kind}}",
            launch_id={LAUNCH_ID},
            wrk_conn_id=f"wrk_wait_{{kind}}",
            deferrable=True,
            poke_interval={POLL_INTERVAL},
            timeout=3600,
        )
'''

#: How each outage reads in the error message.
SYMPTOMS = {
    "503": "failed with HTTP 503",
    "slow": "(no answer within the read timeout)",
    "refused": "(connection failed or was dropped)",
}
FAILED_LOOK = re.compile(rf"Look (\d+) of {MAX_CONSECUTIVE_FAILURES} in a row failed for launch")


def go_down(sim: WrkSimulator, kind: str) -> None:
    """Take the API down in the way ``kind`` names."""
    if kind == "503":
        sim.inject("*", Fault.error(503, times=0))
    elif kind == "slow":
        sim.inject("*", Fault.slow(TIMEOUT + 2, times=0))
    else:
        sim.stop()


@dataclass
class Outage:
    result: DagTest
    requests: dict[str, list[RecordedRequest]]


@pytest.fixture(scope="module")
def outage(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outage]:
    root = Path(tmp_path_factory.mktemp("api-down"))
    dags = root / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").write_text(DAG_SOURCE)
    home = AirflowHome(root / "home", dags)
    home.migrate()

    with contextlib.ExitStack() as stack:
        sims, connections = {}, {}
        for task_id in [f"pause_{kind}" for kind in PAUSES] + [f"wait_{kind}" for kind in WAITS]:
            sim = sims[task_id] = stack.enter_context(WrkSimulator(manual_clock=True))
            sim.add_launch(launch_id=LAUNCH_ID)
            connections[f"AIRFLOW_CONN_WRK_{task_id.upper()}"] = connection_json(
                sim.url,
                sim.api_key,
                timeout=TIMEOUT,
                connect_timeout=TIMEOUT,
                max_retries=MAX_RETRIES,
                retry_wait=RETRY_WAIT,
                retry_max_wait=RETRY_MAX_WAIT,
            )
            action, kind = task_id.split("_", 1)
            if action == "pause":
                go_down(sim, kind)
            else:
                # The sensor's first look, before it defers, is answered; no later one is.
                cues = stack.enter_context(Cues(sim))
                cues.when(
                    lambda log: any(map(answered, log)), functools.partial(go_down, sim, kind)
                )
        result = home.dags_test(DAG_ID, timeout=300, **connections)
        yield Outage(result, {task_id: sim.requests for task_id, sim in sims.items()})


def test_every_task_failed(outage: Outage) -> None:
    result = outage.result
    assert result.state == "failed", result.tail()
    assert result.returncode != 0


@pytest.mark.parametrize("kind", PAUSES)
def test_pause_gives_up_within_its_retries(
    outage: Outage, kind: str, report: Callable[..., None]
) -> None:
    log = outage.result.task_log(f"pause_{kind}")
    requests = outage.requests[f"pause_{kind}"]

    # From the end of Airflow's preparations to the failure, as the task log shows them.
    took = log.first("Task failed with exception") - log.first("::endgroup::")
    report("task seconds", round(took, 2))
    report("bound", REQUEST_BOUND + SLACK)
    messages = log.lines(f"Gave up after {ATTEMPTS} attempts.")
    assert messages, log.tail()
    assert f"GET /launch for launch {LAUNCH_ID} " in messages[0]
    assert SYMPTOMS[kind] in messages[0]
    assert took <= REQUEST_BOUND + SLACK
    assert not any(request.method == "POST" for request in requests)
    if kind != "refused":
        assert len(requests) == ATTEMPTS
        # Each retry followed the one before within a read timeout and the longest backoff.
        spread = requests[-1].time - requests[0].time
        report("seconds from first to last attempt", round(spread, 2))
        assert spread <= MAX_RETRIES * (TIMEOUT + RETRY_MAX_WAIT) + 0.5


@pytest.mark.parametrize("kind", WAITS)
def test_deferred_wait_gives_up_after_failed_looks(
    outage: Outage, kind: str, report: Callable[..., None]
) -> None:
    log = outage.result.task_log(f"wait_{kind}")
    requests = outage.requests[f"wait_{kind}"]

    gave_up = log.lines(
        f"Gave up waiting for launch {LAUNCH_ID} after {MAX_CONSECUTIVE_FAILURES} failed looks "
        "in a row; the last: "
    )
    assert gave_up, log.tail()
    took = moment(gave_up[0]) - log.first("deferring the wait to the triggerer")
    report("wait seconds", round(took, 2))
    report("bound", WAIT_BOUND + SLACK)
    looks = {int(look) for look in FAILED_LOOK.findall(log.output)}
    assert looks == set(range(1, MAX_CONSECUTIVE_FAILURES + 1))
    assert SYMPTOMS[kind] in gave_up[0]
    assert f"Gave up after {ATTEMPTS} attempts." in gave_up[0]
    assert log.lines("Task failed with exception")
    assert took <= WAIT_BOUND + SLACK
    first_look, *later_looks = requests
    assert not is_async(first_look)
    if kind == "503":
        assert len(later_looks) == MAX_CONSECUTIVE_FAILURES * ATTEMPTS
        assert all(map(is_async, later_looks))
    else:
        assert later_looks == []
