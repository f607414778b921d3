"""Fixtures for the simulator's own tests: simulators from the plugin, sessions with a key."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import requests

from wrk_provider.testing import WrkSimulator
from wrk_provider.testing.pytest_plugin import wrk_simulator, wrk_simulator_factory

from .support import SessionFor

__all__ = ["wrk_simulator", "wrk_simulator_factory"]


@pytest.fixture
def session_for() -> Iterator[SessionFor]:
    """Make a ``requests.Session`` that sends a simulator's key; all close after the test."""
    sessions: list[requests.Session] = []

    def make(sim: WrkSimulator) -> requests.Session:
        session = requests.Session()
        session.headers["Authorization"] = f"Api-Key {sim.api_key}"
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture
def seed_sim(wrk_simulator: WrkSimulator) -> WrkSimulator:
    """A started seed-dialect simulator with a manual clock."""
    return wrk_simulator


@pytest.fixture
def openapi_sim(wrk_simulator_factory: Callable[..., WrkSimulator]) -> WrkSimulator:
    """A started openapi-dialect simulator with a manual clock."""
    return wrk_simulator_factory(dialect="openapi", manual_clock=True)
