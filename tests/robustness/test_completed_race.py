"""A launch that completes between the operator's first read and its request: Wrk refuses the
request, and the task fails for good with a message that says the launch completed."""

from __future__ import annotations

import threading
import time
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowFailException

from wrk_provider.exceptions import WrkAPIError, WrkRefusedError
from wrk_provider.operators.wrk import WrkPauseLaunchOperator, WrkResumeLaunchOperator
from wrk_provider.testing import Fault, WrkSimulator

from .conftest import UseConnection

pytestmark = pytest.mark.integration

OPERATORS: dict[str, Any] = {"pause": WrkPauseLaunchOperator, "resume": WrkResumeLaunchOperator}


def _complete_after_first_read(sim: WrkSimulator, launch_id: int) -> threading.Thread:
    """Complete the launch while the operator's first read is on its way back: the read is
    held for a second, so the request that follows it meets a completed launch."""
    sim.inject("GET /launch", Fault.slow(1.0))

    def complete() -> None:
        deadline = time.monotonic() + 10
        while not sim.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        sim.complete(launch_id)

    thread = threading.Thread(target=complete, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    ("dialect", "refusal"), [("seed", WrkRefusedError), ("openapi", WrkAPIError)]
)
@pytest.mark.parametrize("action", ["pause", "resume"])
def test_a_launch_completed_before_the_request_fails_the_task_for_good(
    use_connection: UseConnection, dialect: str, refusal: type[Exception], action: str
) -> None:
    with WrkSimulator(dialect=dialect) as sim:
        status = "running" if action == "pause" else "paused"
        launch_id = sim.add_launch(status=status, duration=3600)
        use_connection(sim)
        completer = _complete_after_first_read(sim, launch_id)
        operator = OPERATORS[action](task_id=action, launch_id=launch_id)

        with pytest.raises(AirflowFailException) as raised:
            # A stand-in for the task context: the operator only pushes its link to XCom.
            operator.execute(mock.MagicMock())
        completer.join()

        message = str(raised.value)
        assert message.startswith(
            f"Launch {launch_id} completed before the {action} request reached Wrk: "
            f"a completed launch cannot be {action}d"
        )
        assert isinstance(raised.value.__context__, refusal)
        assert [r.method for r in sim.requests].count("POST") == 1
        assert sim.launch(launch_id)["state"]["status"] == "completed"


def test_a_conflict_on_a_launch_that_is_not_completed_is_left_as_it_is(
    use_connection: UseConnection,
) -> None:
    with WrkSimulator(dialect="openapi") as sim:
        launch_id = sim.add_launch(duration=3600)
        use_connection(sim)
        sim.inject(f"POST /launch/{launch_id}/pause", Fault.error(409))

        with pytest.raises(WrkAPIError) as raised:
            WrkPauseLaunchOperator(task_id="pause", launch_id=launch_id).execute(mock.MagicMock())

        assert raised.value.status_code == 409
        assert sim.launch(launch_id)["state"]["status"] == "running"
