"""``AsyncWrkClient`` over HTTP: the same answers and rules as the sync client."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import pytest

from wrk_provider.client.aio import AsyncWrkClient
from wrk_provider.client.errors import (
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkNotFoundError,
    WrkRefusedError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.models import LaunchStatus
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.testing import Fault, WrkSimulator

pytestmark = pytest.mark.integration

T = TypeVar("T")
FAST = RetryPolicy(max_attempts=3, initial_wait=0.01, max_wait=0.05)
T0 = 1_728_673_181


def run(sim: WrkSimulator, use: Callable[[AsyncWrkClient], Awaitable[T]], **options: Any) -> T:
    """Run ``use(client)`` in a fresh event loop, with a client that is closed afterwards."""
    options.setdefault("retry", FAST)
    key = options.pop("api_key", sim.api_key)
    url = options.pop("base_url", sim.url)

    async def main() -> T:
        async with AsyncWrkClient(key, base_url=url, **options) as client:
            result = await use(client)
        assert client.is_closed
        return result

    return asyncio.run(main())


def test_get_launch(sim: WrkSimulator, seeded) -> None:
    launch = run(sim, lambda client: client.get_launch(105))

    assert str(launch.launch_id) == "105"
    assert launch.status is LaunchStatus.PAUSED
    assert launch.start_date.int_timestamp == T0 + 240


def test_list_with_filters(sim: WrkSimulator, seeded: dict) -> None:
    launches = run(
        sim, lambda client: client.get_launches(status_code="running", wrkflow_uuid=seeded["a"])
    )

    assert [str(launch.launch_id) for launch in launches] == ["106", "101"]


def test_list_follows_pages(openapi_sim: WrkSimulator) -> None:
    added = [openapi_sim.add_launch(start_date=T0 + index) for index in range(120)]

    launches = run(openapi_sim, lambda client: client.get_launches())

    assert [str(launch.launch_id) for launch in launches] == [str(i) for i in reversed(added)]
    assert [request.query.get("page", "0") for request in openapi_sim.requests] == ["0", "1", "2"]


def test_list_with_page_size(openapi_sim: WrkSimulator) -> None:
    for index in range(25):
        openapi_sim.add_launch(start_date=T0 + index)

    launches = run(openapi_sim, lambda client: client.get_launches(), page_size=10)

    assert len(launches) == 25
    assert [r.query["page_size"] for r in openapi_sim.requests] == ["10", "10", "10"]


def test_iter_launches_is_lazy(openapi_sim: WrkSimulator) -> None:
    for index in range(60):
        openapi_sim.add_launch(start_date=T0 + index)

    async def first(client: AsyncWrkClient) -> Any:
        async for launch in client.iter_launches():
            return launch

    launch = run(openapi_sim, first)

    assert launch.start_date.int_timestamp == T0 + 59
    assert openapi_sim.count("GET", "/launch") == 1


def test_pause_and_resume(sim: WrkSimulator) -> None:
    launch_id = sim.add_launch()

    async def toggle(client: AsyncWrkClient) -> list[Any]:
        paused = await client.pause_launch(launch_id)
        after_pause = (await client.get_launch(launch_id)).status
        resumed = await client.resume_launch(str(launch_id))
        after_resume = (await client.get_launch(launch_id)).status
        return [paused, after_pause, resumed, after_resume]

    assert run(sim, toggle) == [True, LaunchStatus.PAUSED, True, LaunchStatus.RUNNING]


def test_retries_503(sim: WrkSimulator) -> None:
    launch_id = sim.add_launch()
    sim.inject("*", Fault.error(503), Fault.error(503))

    launch = run(sim, lambda client: client.get_launch(launch_id))

    assert str(launch.launch_id) == str(launch_id)
    assert [r.status for r in sim.requests][:3] == [503, 503, 200]


def test_retries_drop_and_read_timeout(seed_sim: WrkSimulator) -> None:
    seed_sim.add_launch(launch_id=3)
    seed_sim.inject("GET /launch", Fault.drop(), Fault.slow(1))

    launches = run(seed_sim, lambda client: client.get_launches(), timeout=0.3)

    assert [str(launch.launch_id) for launch in launches] == ["3"]
    assert seed_sim.count("GET", "/launch") == 3


def test_gives_up_after_the_last_attempt(sim: WrkSimulator) -> None:
    sim.inject("GET /launch", Fault.error(503, times=0))

    with pytest.raises(WrkServerError) as caught:
        run(sim, lambda client: client.get_launches())

    assert sim.count("GET", "/launch") == 3
    assert str(caught.value).endswith("Gave up after 3 attempts.")


def test_honours_retry_after(seed_sim: WrkSimulator) -> None:
    seed_sim.inject("GET /launch", Fault.error(429, retry_after="1"))

    policy = RetryPolicy(max_attempts=3, initial_wait=0.01)
    assert run(seed_sim, lambda client: client.get_launches(), retry=policy) == []
    first, second = seed_sim.requests
    assert second.time - first.time >= 0.9


def test_wrong_key(sim: WrkSimulator) -> None:
    with pytest.raises(WrkAuthenticationError, match="GET /launch failed with HTTP 401"):
        run(sim, lambda client: client.get_launches(), api_key="wrong")
    assert len(sim.requests) == 1


def test_missing_launch(sim: WrkSimulator) -> None:
    with pytest.raises(WrkNotFoundError) as caught:
        run(sim, lambda client: client.pause_launch(31337))

    assert caught.value.launch_id == "31337"
    assert "31337" in str(caught.value)
    assert len(sim.requests) == 1


def test_bad_response(sim: WrkSimulator) -> None:
    sim.inject("GET /launch", Fault.html(200))

    with pytest.raises(WrkBadResponseError, match="not JSON"):
        run(sim, lambda client: client.get_launches())


def test_refused(seed_sim: WrkSimulator) -> None:
    launch_id = seed_sim.add_launch(status="completed")

    with pytest.raises(WrkRefusedError, match=f"refused to resume launch {launch_id}"):
        run(seed_sim, lambda client: client.resume_launch(launch_id))


def test_unreachable(sim: WrkSimulator) -> None:
    url = sim.url
    sim.stop()

    with pytest.raises(WrkUnreachableError) as caught:
        run(sim, lambda client: client.get_launches(), base_url=url)

    assert f"could not reach {url}" in str(caught.value)
    assert str(caught.value).endswith("Gave up after 3 attempts.")


def test_check(sim: WrkSimulator, seeded) -> None:
    page = run(sim, lambda client: client.check())

    assert page.total_count == 6
    assert len(page.launches) == 6
