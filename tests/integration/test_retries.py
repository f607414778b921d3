"""When the client tries a request again, how long it waits, and when it stops."""

from __future__ import annotations

import time
from email.utils import formatdate

import pytest

from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.testing import Fault, WrkSimulator

pytestmark = pytest.mark.integration

THREE_TRIES = RetryPolicy(max_attempts=3, initial_wait=0.01)


def gaps(sim: WrkSimulator) -> list[float]:
    times = [request.time for request in sim.requests]
    return [times[index + 1] - times[index] for index in range(len(times) - 1)]


def test_429_waits_the_seconds_in_retry_after(sim: WrkSimulator, make_client) -> None:
    sim.add_launch(launch_id=7)
    sim.inject("GET /launch", Fault.error(429, retry_after="1"))

    launches = make_client(sim, retry=THREE_TRIES).get_launches()

    assert [str(launch.launch_id) for launch in launches] == ["7"]
    assert [request.status for request in sim.requests] == [429, 200]
    assert gaps(sim)[0] >= 0.9


def test_429_waits_until_the_http_date_in_retry_after(seed_sim: WrkSimulator, make_client):
    seed_sim.add_launch(launch_id=7)
    seed_sim.inject(
        "GET /launch", Fault.error(429, retry_after=formatdate(time.time() + 2.0, usegmt=True))
    )

    make_client(seed_sim, retry=THREE_TRIES).get_launches()

    assert [request.status for request in seed_sim.requests] == [429, 200]
    assert gaps(seed_sim)[0] >= 0.9


def test_retry_after_is_capped_by_max_wait(seed_sim: WrkSimulator, make_client) -> None:
    seed_sim.inject("GET /launch", Fault.error(429, retry_after="3600"))
    policy = RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.05)

    assert make_client(seed_sim, retry=policy).get_launches() == []
    assert [request.status for request in seed_sim.requests] == [429, 200]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_are_retried(seed_sim: WrkSimulator, make_client, status: int) -> None:
    seed_sim.add_launch(launch_id=7)
    seed_sim.inject("GET /launch", Fault.error(status))

    assert len(make_client(seed_sim).get_launches()) == 1
    assert [request.status for request in seed_sim.requests] == [status, 200]


def test_503_is_retried_in_both_shapes(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch()
    sim.inject("*", Fault.error(503), Fault.error(503))

    launch = make_client(sim).get_launch(launch_id)

    assert str(launch.launch_id) == str(launch_id)
    assert [request.status for request in sim.requests][:3] == [503, 503, 200]


def test_pause_is_retried_after_503(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch()
    sim.inject("POST /launch/{id}/pause", Fault.error(503))

    assert make_client(sim).pause_launch(launch_id) is True
    assert sim.count("POST", "/launch/{id}/pause") == 2
    assert sim.launch(launch_id)["state"]["status"] == "paused"


def test_dropped_connection_is_retried(sim: WrkSimulator, make_client) -> None:
    sim.add_launch(launch_id=7)
    sim.inject("GET /launch", Fault.drop())

    launches = make_client(sim).get_launches()

    assert [str(launch.launch_id) for launch in launches] == ["7"]
    assert [request.status for request in sim.requests] == [0, 200]


def test_read_timeout_is_retried(sim: WrkSimulator, make_client) -> None:
    sim.add_launch(launch_id=7)
    sim.inject("GET /launch", Fault.slow(1))

    launches = make_client(sim, timeout=0.3).get_launches()

    assert [str(launch.launch_id) for launch in launches] == ["7"]
    assert sim.count("GET", "/launch") == 2


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, WrkAPIError),
        (401, WrkAuthenticationError),
        (403, WrkAuthenticationError),
        (404, WrkNotFoundError),
        (409, WrkAPIError),
        (422, WrkAPIError),
    ],
)
def test_client_errors_are_not_retried(sim: WrkSimulator, make_client, status: int, kind) -> None:
    sim.inject("GET /launch", Fault.error(status))

    with pytest.raises(kind) as caught:
        make_client(sim).get_launches()

    assert len(sim.requests) == 1
    assert caught.value.status_code == status
    assert caught.value.attempts == 1
    assert "Gave up" not in str(caught.value)


def test_wrong_key_is_tried_once(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkAuthenticationError):
        make_client(sim, api_key="not-the-key").get_launches()

    assert [request.status for request in sim.requests] == [401]


def test_missing_launch_is_tried_once(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkNotFoundError):
        make_client(sim).pause_launch(424242)

    assert [request.status for request in sim.requests] == [404]


@pytest.mark.parametrize(
    ("fault", "kind"),
    [
        (Fault.error(503, times=0), WrkServerError),
        (Fault.error(429, times=0), WrkRateLimitedError),
        (Fault.drop(times=0), WrkUnreachableError),
    ],
    ids=["503", "429", "drop"],
)
def test_attempts_are_bounded(sim: WrkSimulator, make_client, fault: Fault, kind) -> None:
    sim.inject("GET /launch", fault)

    with pytest.raises(kind) as caught:
        make_client(sim, retry=THREE_TRIES).get_launches()

    assert sim.count("GET", "/launch") == 3
    assert caught.value.attempts == 3
    assert str(caught.value).endswith("Gave up after 3 attempts.")
    assert "\n" not in str(caught.value)


def test_read_timeouts_are_bounded(seed_sim: WrkSimulator, make_client) -> None:
    seed_sim.inject("GET /launch", Fault.slow(1, times=0))
    policy = RetryPolicy(max_attempts=2, initial_wait=0.01)

    with pytest.raises(WrkUnreachableError, match="read timeout.*Gave up after 2 attempts"):
        make_client(seed_sim, retry=policy, timeout=0.2).get_launches()

    assert seed_sim.count("GET", "/launch") == 2


def test_a_single_attempt_policy_never_retries(seed_sim: WrkSimulator, make_client) -> None:
    seed_sim.inject("GET /launch", Fault.error(503, times=0))

    with pytest.raises(WrkServerError) as caught:
        make_client(seed_sim, retry=RetryPolicy(max_attempts=1)).get_launches()

    assert seed_sim.count("GET", "/launch") == 1
    assert "Gave up" not in str(caught.value)


def test_rate_limited_server_is_waited_out(wrk_simulator_factory, make_client) -> None:
    sim = wrk_simulator_factory(dialect="seed", manual_clock=True, rate_limit=2)
    client = make_client(sim, retry=RetryPolicy(max_attempts=4, initial_wait=0.01, max_wait=2))

    for _ in range(3):
        client.get_launches()

    statuses = [request.status for request in sim.requests]
    assert statuses.count(200) == 3
    assert 429 in statuses
    assert gaps(sim)[statuses.index(429)] >= 0.9
