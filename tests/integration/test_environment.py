"""The sync and the async client read proxy settings from the environment alike, so that a
task and a deferred wait reach the API by the same road."""

from __future__ import annotations

import asyncio
import socket

import pytest

from wrk_provider.client.aio import AsyncWrkClient
from wrk_provider.client.errors import WrkUnreachableError
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient
from wrk_provider.testing import WrkSimulator

pytestmark = pytest.mark.integration

ONCE = RetryPolicy(max_attempts=1)
PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _read_both(sim: WrkSimulator, launch_id: int) -> list[object]:
    """What each client makes of reading the launch: the launch id, or the error kind."""
    outcomes: list[object] = []
    with WrkClient(sim.api_key, base_url=sim.url, retry=ONCE, timeout=2) as client:
        try:
            outcomes.append(client.get_launch(launch_id).launch_id)
        except WrkUnreachableError as error:
            outcomes.append(type(error))

    async def read() -> object:
        async with AsyncWrkClient(sim.api_key, base_url=sim.url, retry=ONCE, timeout=2) as client:
            try:
                return (await client.get_launch(launch_id)).launch_id
            except WrkUnreachableError as error:
                return type(error)

    outcomes.append(asyncio.run(read()))
    return outcomes


@pytest.fixture
def clean_proxies(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return monkeypatch


def test_both_clients_go_through_the_proxy_the_environment_names(
    wrk_simulator: WrkSimulator, clean_proxies: pytest.MonkeyPatch
) -> None:
    launch_id = wrk_simulator.add_launch()
    clean_proxies.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")

    assert _read_both(wrk_simulator, launch_id) == [WrkUnreachableError, WrkUnreachableError]
    assert wrk_simulator.requests == [], "both went to the proxy, which is down"


def test_both_clients_honour_no_proxy(
    wrk_simulator: WrkSimulator, clean_proxies: pytest.MonkeyPatch
) -> None:
    launch_id = wrk_simulator.add_launch()
    clean_proxies.setenv("HTTP_PROXY", f"http://127.0.0.1:{_closed_port()}")
    clean_proxies.setenv("NO_PROXY", "127.0.0.1")

    assert _read_both(wrk_simulator, launch_id) == [launch_id, launch_id]
