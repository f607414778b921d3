"""Random sequences of pauses, resumes, clock advances, error counts and transient faults.

Hypothesis drives the simulator, in both dialects, through the hook. After every step the hook's
view of each launch (``get_launch`` and ``get_launches``) must match a small model, and the
verdict (``wrk_provider.verdict.judge`` for every sensor setting, and a real
``WrkLaunchSensor.poke`` for one setting a launch) must be the one the model predicts:

- a running launch accrues time; it is completed once that time reaches its duration;
- a paused launch stands still; a completed one never changes again;
- pausing a paused launch, or resuming a running one, changes nothing;
- pausing or resuming a completed launch is refused, and changes nothing.

Transient faults (503, 429, a dropped connection) are queued on the next requests, fewer than the
retry policy absorbs, so no step may fail because of them.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from wrk_provider.client.errors import WrkAPIError, WrkRefusedError
from wrk_provider.client.models import LaunchStatus
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.sensors.wrk import WrkLaunchSensor
from wrk_provider.testing import Fault, WrkSimulator
from wrk_provider.verdict import judge

pytestmark = [pytest.mark.integration, pytest.mark.timeout(180)]

T0 = 1_728_673_181
CONN_ID = "wrk_machine"
ENV = f"AIRFLOW_CONN_{CONN_ID.upper()}"
#: Five tries a request: four faults in a row are absorbed.
MAX_RETRIES = 4
FAULTS = {
    "503": lambda: Fault.error(503),
    "429": lambda: Fault.error(429),
    "drop": lambda: Fault.drop(),
}
#: (max_errors, fail_on_paused): the sensor settings each launch is judged with.
SETTINGS = [(None, False), (None, True), (0, False), (2, True)]


@dataclass
class ModelLaunch:
    duration: int
    elapsed: int
    status: str
    errors: int = 0

    def advance(self, seconds: int) -> None:
        if self.status == "running":
            self.elapsed = min(self.duration, self.elapsed + seconds)
            if self.elapsed >= self.duration:
                self.status = "completed"

    def expected_verdict(self, max_errors: int | None, fail_on_paused: bool) -> str:
        if max_errors is not None and self.errors > max_errors:
            return "failure"
        if self.status == "completed":
            return "done"
        if self.status == "paused" and fail_on_paused:
            return "failure"
        return "waiting"


class LaunchMachine(RuleBasedStateMachine):
    """A simulator with a manual clock, a model of its launches, and a hook between them."""

    dialect = "seed"
    launches = Bundle("launches")

    def __init__(self) -> None:
        super().__init__()
        self.sim = WrkSimulator(dialect=self.dialect, manual_clock=True, action_delay=0).start()
        os.environ[ENV] = json.dumps(
            {
                "conn_type": "wrk",
                "host": self.sim.url,
                "password": self.sim.api_key,
                "extra": {
                    "max_retries": MAX_RETRIES,
                    "retry_wait": 0.001,
                    "retry_max_wait": 0.005,
                    "timeout": 5,
                },
            }
        )
        self.hook = WrkHook(CONN_ID)
        self.model: dict[int, ModelLaunch] = {}
        self.sensors: dict[int, WrkLaunchSensor] = {}

    def teardown(self) -> None:
        self.hook.close()
        self.sim.stop()
        os.environ.pop(ENV, None)

    @initialize(
        target=launches,
        plan=st.lists(
            st.tuples(
                st.integers(5, 120),
                st.integers(0, 60),
                st.sampled_from(["running", "paused", "completed"]),
            ),
            min_size=1,
            max_size=4,
        ),
    )
    def add_launches(self, plan: list[tuple[int, int, str]]) -> Any:
        ids = []
        for duration, elapsed, status in plan:
            if status == "completed":  # a completed launch ran its whole duration
                elapsed = duration
                launch_id = self.sim.add_launch(duration=duration, status=status, start_date=T0)
            else:
                elapsed = min(elapsed, duration - 1)
                launch_id = self.sim.add_launch(
                    duration=duration, elapsed=elapsed, status=status, start_date=T0
                )
            self.model[launch_id] = ModelLaunch(duration, elapsed, status)
            ids.append(launch_id)
        return multiple(*ids)

    def _queue(self, faults: list[str]) -> None:
        for kind in faults:
            self.sim.inject("*", FAULTS[kind]())

    @rule(
        launch_id=launches,
        faults=st.lists(st.sampled_from(sorted(FAULTS)), max_size=MAX_RETRIES),
    )
    def pause(self, launch_id: int, faults: list[str]) -> None:
        self._act(launch_id, "pause", faults)

    @rule(
        launch_id=launches,
        faults=st.lists(st.sampled_from(sorted(FAULTS)), max_size=MAX_RETRIES),
    )
    def resume(self, launch_id: int, faults: list[str]) -> None:
        self._act(launch_id, "resume", faults)

    def _act(self, launch_id: int, action: str, faults: list[str]) -> None:
        model = self.model[launch_id]
        self._queue(faults)
        call = getattr(self.hook, f"{action}_launch")
        if model.status == "completed":
            with pytest.raises((WrkRefusedError, WrkAPIError)) as caught:
                call(launch_id)
            if isinstance(caught.value, WrkAPIError):
                assert caught.value.status_code == 409
            assert str(launch_id) in str(caught.value)
            return
        assert call(launch_id) is True
        model.status = "paused" if action == "pause" else "running"

    @rule(seconds=st.integers(1, 45))
    def advance(self, seconds: int) -> None:
        self.sim.advance(seconds)
        for model in self.model.values():
            model.advance(seconds)

    @rule(launch_id=launches, errors=st.integers(0, 4))
    def record_errors(self, launch_id: int, errors: int) -> None:
        self.sim.set_errors(launch_id, errors)
        self.model[launch_id].errors = errors

    @rule(faults=st.lists(st.sampled_from(sorted(FAULTS)), min_size=1, max_size=MAX_RETRIES))
    def transient_faults(self, faults: list[str]) -> None:
        self._queue(faults)

    @invariant()
    def the_hook_sees_the_model(self) -> None:
        if not self.model:
            return
        listed = {str(launch.launch_id): launch for launch in self.hook.get_launches()}
        assert set(listed) == {str(launch_id) for launch_id in self.model}
        for launch_id, model in self.model.items():
            for launch in (self.hook.get_launch(launch_id), listed[str(launch_id)]):
                assert launch.status is LaunchStatus(model.status), (launch_id, launch, model)
                assert launch.time_elapsed == model.elapsed, (launch_id, launch, model)
                assert launch.num_errors == model.errors, (launch_id, launch, model)
                for max_errors, fail_on_paused in SETTINGS:
                    verdict = judge(launch, max_errors=max_errors, fail_on_paused=fail_on_paused)
                    seen = "done" if verdict.done else "failure" if verdict.failure else "waiting"
                    expected = model.expected_verdict(max_errors, fail_on_paused)
                    assert seen == expected, (launch_id, max_errors, fail_on_paused, model)
                    if verdict.failure:
                        assert str(launch_id) in verdict.failure
            max_errors, fail_on_paused = SETTINGS[launch_id % len(SETTINGS)]
            seen = self._poke(launch_id, max_errors, fail_on_paused)
            assert seen == model.expected_verdict(max_errors, fail_on_paused), (launch_id, model)

    def _poke(self, launch_id: int, max_errors: int | None, fail_on_paused: bool) -> str:
        """What a real sensor, kept across steps as in poke mode, makes of the launch now."""
        sensor = self.sensors.get(launch_id)
        if sensor is None:
            sensor = WrkLaunchSensor(
                task_id=f"wait_{launch_id}",
                launch_id=launch_id,
                wrk_conn_id=CONN_ID,
                max_errors=max_errors,
                fail_on_paused=fail_on_paused,
            )
            self.sensors[launch_id] = sensor
        try:
            # A stand-in for the task context: the sensor only pushes its link to XCom with it.
            done = sensor.poke(mock.MagicMock()).is_done
        except AirflowFailException as failure:
            assert str(launch_id) in str(failure)
            return "failure"
        return "done" if done else "waiting"

    @invariant()
    def every_fault_was_absorbed(self) -> None:
        failed = [r for r in self.sim.requests if r.status not in (0, 200, 202, 409, 429, 503)]
        assert not failed, failed


@pytest.fixture
def hypothesis_home(tmp_path: Path) -> Iterator[None]:
    """Keep what hypothesis stores (with no database, a cache of constants) out of the repo."""
    set_hypothesis_home_dir(tmp_path / "hypothesis")
    yield
    set_hypothesis_home_dir(None)


@pytest.mark.parametrize("dialect", ["seed", "openapi"])
@pytest.mark.usefixtures("hypothesis_home")
def test_random_sequences_keep_the_hook_and_the_verdict_right(
    dialect: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(ENV, raising=False)  # restored after the test, whatever the machine does
    machine = type(f"LaunchMachine_{dialect}", (LaunchMachine,), {"dialect": dialect})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=30,
            stateful_step_count=30,
            deadline=None,
            database=None,
            # Every example starts a server: shrinking a failure could take minutes, so a
            # failure is reported as found (hypothesis prints its steps).
            phases=[Phase.explicit, Phase.reuse, Phase.generate],
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
