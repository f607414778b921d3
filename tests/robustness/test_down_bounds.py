"""When the API stays down, every layer gives up within a bound it can state in advance.

The client's bound is its retry policy: ``max_attempts`` tries, the waits between them each at
most ``min(max_wait, initial_wait * 2 ** (n - 1))``, and each try at most its connect and read
timeouts. A trigger's bound is ``max_consecutive_failures`` looks, one poll interval apart.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from wrk_provider.client.aio import AsyncWrkClient
from wrk_provider.client.errors import WrkError, WrkServerError, WrkUnreachableError
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient
from wrk_provider.testing import Fault, WrkSimulator
from wrk_provider.triggers.poller import GATHER_DELAY

from .support import (
    QUICK_EXTRAS,
    backoff_bound,
    make_trigger,
    one_line,
    poller_of,
    refused_url,
    run_trigger,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(90)]

SimulatorFactory = Callable[..., WrkSimulator]
POLICY = RetryPolicy(max_attempts=4, initial_wait=0.2, max_wait=0.3)
TIMEOUT = 0.5
CONNECT_TIMEOUT = 0.5
#: Scheduling noise on a busy two-core machine.
SLACK = 1.5


def client_bound(policy: RetryPolicy = POLICY) -> float:
    """The longest a request that keeps failing can take, from the policy and timeouts."""
    return backoff_bound(policy) + policy.max_attempts * (CONNECT_TIMEOUT + TIMEOUT)


def sync_call(url: str, api_key: str) -> WrkError:
    with (
        WrkClient(
            api_key, base_url=url, retry=POLICY, timeout=TIMEOUT, connect_timeout=CONNECT_TIMEOUT
        ) as client,
        pytest.raises(WrkError) as caught,
    ):
        client.get_launch(1001)
    return caught.value


def async_call(url: str, api_key: str) -> WrkError:
    async def main() -> WrkError:
        async with AsyncWrkClient(
            api_key, base_url=url, retry=POLICY, timeout=TIMEOUT, connect_timeout=CONNECT_TIMEOUT
        ) as client:
            try:
                await client.get_launch(1001)
            except WrkError as error:
                return error
        raise AssertionError("the call was expected to fail")

    return asyncio.run(main())


CALLS = {"sync": sync_call, "async": async_call}


def timed(call: Callable[[], Any]) -> tuple[Any, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


@pytest.mark.parametrize("kind", CALLS)
def test_refused_port_gives_up_within_the_policy(kind: str) -> None:
    url = refused_url()

    error, took = timed(lambda: CALLS[kind](url, "wrk-test-key"))

    assert isinstance(error, WrkUnreachableError)
    assert took <= client_bound() + SLACK, f"{took:.2f} s"
    # The port refuses at once: only the waits between tries can take time.
    assert took <= backoff_bound(POLICY) + SLACK, f"{took:.2f} s"
    assert error.attempts == POLICY.max_attempts
    assert f"Gave up after {POLICY.max_attempts} attempts" in str(error)
    assert "could not reach" in str(error) and url in str(error)
    assert one_line(str(error))


@pytest.mark.parametrize("kind", CALLS)
@pytest.mark.parametrize("retry_after", [None, "3600"], ids=["no-retry-after", "retry-after-1h"])
def test_503_forever_gives_up_within_the_policy(
    kind: str, retry_after: str | None, wrk_simulator_factory: SimulatorFactory
) -> None:
    sim = wrk_simulator_factory(manual_clock=True)
    sim.add_launch(launch_id=1001)
    sim.inject("*", Fault.error(503, retry_after=retry_after, times=0))

    error, took = timed(lambda: CALLS[kind](sim.url, sim.api_key))

    assert isinstance(error, WrkServerError)
    assert took <= client_bound() + SLACK, f"{took:.2f} s"
    # A Retry-After of an hour is honoured only up to max_wait.
    assert sim.count() == POLICY.max_attempts
    assert [request.status for request in sim.requests] == [503] * POLICY.max_attempts
    assert f"Gave up after {POLICY.max_attempts} attempts" in str(error)
    assert "HTTP 503" in str(error) and "launch 1001" in str(error)


@pytest.mark.parametrize("kind", CALLS)
def test_an_answer_that_never_comes_gives_up_within_the_policy(
    kind: str, wrk_simulator_factory: SimulatorFactory
) -> None:
    sim = wrk_simulator_factory(manual_clock=True)
    sim.inject("*", Fault.slow(5, times=0))

    error, took = timed(lambda: CALLS[kind](sim.url, sim.api_key))

    assert isinstance(error, WrkUnreachableError)
    assert "read timeout" in str(error)
    assert took <= client_bound() + SLACK, f"{took:.2f} s"
    assert took >= POLICY.max_attempts * TIMEOUT * 0.9, "each try waits its read timeout"
    assert sim.count() == POLICY.max_attempts


def trigger_bound(interval: float, failures: int, look: float) -> float:
    """``failures`` looks: the first at once, each next one at most an interval (and the gather
    delay) after the previous ended, each taking at most ``look`` seconds."""
    return failures * (look + GATHER_DELAY) + (failures - 1) * interval


def run_failing_trigger(interval: float, failures: int) -> tuple[list[dict[str, Any]], bool]:
    async def main() -> tuple[list[dict[str, Any]], bool]:
        trigger = make_trigger(1001, interval, max_consecutive_failures=failures)
        events = await run_trigger(trigger)
        poller = poller_of()
        assert poller._task is not None
        await asyncio.wait_for(asyncio.shield(poller._task), 5)
        return events, poller._client is None

    return asyncio.run(main())


#: One look of the trigger's connection (QUICK_EXTRAS): two tries, each within its timeouts.
LOOK = backoff_bound(RetryPolicy.create(1, 0.01, 0.02)) + 2 * (
    QUICK_EXTRAS["connect_timeout"] + QUICK_EXTRAS["timeout"]
)
#: A look that fails at once (refused, or 503 on loopback): two tries and one short wait.
QUICK_LOOK = 0.25


@pytest.mark.parametrize("down", ["refused", "503-forever"])
def test_trigger_ends_with_one_error_event_after_its_failures(
    down: str, wrk_simulator_factory: SimulatorFactory, use_connection: Callable[..., None]
) -> None:
    sim = wrk_simulator_factory(manual_clock=True)
    sim.add_launch(launch_id=1001)
    if down == "refused":
        use_connection(host=refused_url(), **QUICK_EXTRAS)
    else:
        sim.inject("*", Fault.error(503, times=0))
        use_connection(sim, **QUICK_EXTRAS)
    interval, failures = 0.3, 3

    (events, closed), took = timed(lambda: run_failing_trigger(interval, failures))

    assert len(events) == 1, events
    event = events[0]
    assert event["status"] == "error"
    assert event["launch_id"] == "1001"
    message = event["message"]
    assert one_line(message)
    assert f"launch 1001 after {failures} failed looks in a row" in message
    assert "Gave up after 2 attempts" in message  # max_retries=1: two tries a look
    if down == "refused":
        assert "could not reach" in message
    else:
        assert "HTTP 503" in message
        assert sim.count() == failures * 2
    assert took <= trigger_bound(interval, failures, LOOK) + SLACK, f"{took:.2f} s"
    assert took <= trigger_bound(interval, failures, QUICK_LOOK) + SLACK, f"{took:.2f} s"
    # With nothing to wait for, the poller stopped and closed its client.
    assert closed


def test_trigger_without_its_connection_fails_at_once_naming_it() -> None:
    async def main() -> list[dict[str, Any]]:
        return await run_trigger(make_trigger(1001, 0.3, conn_id="wrk_nowhere"))

    events, took = timed(lambda: asyncio.run(main()))

    assert [event["status"] for event in events] == ["failed"]
    assert "wrk_nowhere" in events[0]["message"]
    assert one_line(events[0]["message"])
    assert took < 5
