"""Pytest fixtures that serve a :class:`WrkSimulator` for the length of one test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from wrk_provider.testing.simulator import WrkSimulator

SimulatorFactory = Callable[..., WrkSimulator]


@pytest.fixture
def wrk_simulator() -> Iterator[WrkSimulator]:
    """A started simulator with a manual clock, stopped after the test."""
    with WrkSimulator(manual_clock=True) as sim:
        yield sim


@pytest.fixture
def wrk_simulator_factory() -> Iterator[SimulatorFactory]:
    """Make started simulators from ``WrkSimulator`` arguments; all stop after the test."""
    made: list[WrkSimulator] = []

    def make(**kwargs: Any) -> WrkSimulator:
        sim = WrkSimulator(**kwargs)
        made.append(sim)
        return sim.start()

    yield make
    for sim in made:
        sim.stop()
