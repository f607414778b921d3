"""Small helpers shared by the simulator's tests."""

from __future__ import annotations

from collections.abc import Callable

import requests

from wrk_provider.testing import WrkSimulator

SessionFor = Callable[[WrkSimulator], requests.Session]


def status_of(sim: WrkSimulator, launch_id: int) -> object:
    """The status the simulator holds for a launch, read without HTTP."""
    state = sim.launch(launch_id)["state"]
    assert isinstance(state, dict)
    return state["status"]


def state_of(sim: WrkSimulator, launch_id: int) -> dict[str, object]:
    """The state block the simulator holds for a launch, read without HTTP."""
    state = sim.launch(launch_id)["state"]
    assert isinstance(state, dict)
    return state
