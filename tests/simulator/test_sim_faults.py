"""Scripted faults, random faults and the rate limit."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

import pytest
import requests

from wrk_provider.testing import Fault, WrkSimulator
from wrk_provider.testing.faults import FaultFields

from .support import SessionFor, status_of


def _outcome(session: requests.Session, method: str, url: str) -> int:
    """The status of one request, or 0 when the connection was dropped."""
    try:
        return session.request(method, url, timeout=5).status_code
    except requests.ConnectionError:
        return 0


def test_error_with_retry_after(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.inject("GET /launch", Fault.error(503, retry_after="7"))
    session = session_for(seed_sim)

    failed = session.get(f"{seed_sim.url}/launch")
    recovered = session.get(f"{seed_sim.url}/launch")

    assert failed.status_code == 503
    assert failed.headers["Retry-After"] == "7"
    assert failed.json() == {"error": {"code": 503, "message": "Injected fault: HTTP 503"}}
    assert recovered.status_code == 200
    assert "Retry-After" not in recovered.headers


def test_error_body_follows_dialect(openapi_sim: WrkSimulator, session_for: SessionFor) -> None:
    date = "Wed, 21 Oct 2015 07:28:00 GMT"
    openapi_sim.inject("*", Fault.error(429, retry_after=date))

    response = session_for(openapi_sim).get(f"{openapi_sim.url}/launch")

    assert response.status_code == 429
    assert response.headers["Retry-After"] == date
    assert response.json()["error"]["name"] == "TooManyRequests"


def test_html_page(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.inject("GET /launch", Fault.html())

    response = session_for(seed_sim).get(f"{seed_sim.url}/launch")

    assert response.status_code == 502
    assert response.headers["Content-Type"] == "text/html"
    assert response.text.startswith("<!DOCTYPE html>")


def test_malformed_json(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.inject("GET /launch", Fault.malformed())

    response = session_for(seed_sim).get(f"{seed_sim.url}/launch")

    assert response.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_raw_body(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.inject(
        "GET /launch",
        Fault.body(b'{"launches": "nope"}', status=201),
        Fault(body=b"plain", content_type="text/plain"),
    )
    session = session_for(seed_sim)

    first = session.get(f"{seed_sim.url}/launch")
    second = session.get(f"{seed_sim.url}/launch")

    assert (first.status_code, first.content) == (201, b'{"launches": "nope"}')
    assert (second.status_code, second.content) == (200, b"plain")
    assert second.headers["Content-Type"] == "text/plain"


def test_slow_answer_is_late_but_normal(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.add_launch()
    seed_sim.inject("GET /launch", Fault.slow(0.3))
    session = session_for(seed_sim)

    started = time.perf_counter()
    response = session.get(f"{seed_sim.url}/launch")
    took = time.perf_counter() - started

    assert response.json()["totalCount"] == 1
    assert 0.28 <= took < 2.0
    with pytest.raises(requests.Timeout):
        seed_sim.inject("GET /launch", Fault.slow(0.5))
        session.get(f"{seed_sim.url}/launch", timeout=0.1)


def test_drop_closes_without_answer(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    launch_id = seed_sim.add_launch()
    seed_sim.inject("POST /launch/{id}/pause", Fault.drop())
    session = session_for(seed_sim)
    session.get(f"{seed_sim.url}/launch")

    with pytest.raises(requests.ConnectionError):
        session.post(f"{seed_sim.url}/launch/{launch_id}/pause")

    assert status_of(seed_sim, launch_id) == "running"
    assert session.post(f"{seed_sim.url}/launch/{launch_id}/pause").json() == {"status": True}
    assert [request.status for request in seed_sim.requests] == [200, 0, 200]


def test_redirect(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.inject("GET /launch", Fault.redirect("https://example.invalid/api/v1/launch"))

    response = session_for(seed_sim).get(f"{seed_sim.url}/launch", allow_redirects=False)

    assert response.status_code == 307
    assert response.headers["Location"] == "https://example.invalid/api/v1/launch"
    assert (response.content, response.headers["Content-Length"]) == (b"", "0")


def test_faults_queue_in_order_and_count_times(
    seed_sim: WrkSimulator, session_for: SessionFor
) -> None:
    seed_sim.inject("GET /launch", Fault.error(500, times=2), Fault.error(502), Fault.html(503))
    session = session_for(seed_sim)

    statuses = [session.get(f"{seed_sim.url}/launch").status_code for _ in range(5)]

    assert statuses == [500, 500, 502, 503, 200]


def test_fault_forever_until_cleared(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.inject("*", dataclasses.replace(Fault.error(500), times=0))
    session = session_for(seed_sim)

    statuses = [session.get(f"{seed_sim.url}/launch").status_code for _ in range(4)]
    seed_sim.clear_faults()

    assert statuses == [500] * 4
    assert session.get(f"{seed_sim.url}/launch").status_code == 200


@pytest.mark.parametrize(
    ("route", "hits"),
    [
        ("GET /launch", ["GET /launch"]),
        ("GET /launch/{id}", ["GET /launch/1001"]),
        ("POST /launch/{id}/pause", ["POST /launch/1001/pause"]),
        ("POST /launch/{id}/resume", ["POST /launch/1001/resume"]),
        ("POST /launch/*", ["POST /launch/1001/pause", "POST /launch/1001/resume"]),
        (
            "*",
            [
                "GET /launch",
                "GET /launch/1001",
                "POST /launch/1001/pause",
                "POST /launch/1001/resume",
            ],
        ),
    ],
)
def test_route_matching(
    openapi_sim: WrkSimulator, session_for: SessionFor, route: str, hits: list[str]
) -> None:
    openapi_sim.add_launch()
    openapi_sim.inject(route, dataclasses.replace(Fault.error(418), times=0))
    session = session_for(openapi_sim)
    calls = [
        "GET /launch",
        "GET /launch/1001",
        "POST /launch/1001/pause",
        "POST /launch/1001/resume",
    ]

    faulted = [
        call
        for call in calls
        if session.request(call.split()[0], openapi_sim.url + call.split()[1]).status_code == 418
    ]

    assert faulted == hits


def _random_run(
    factory: Callable[..., WrkSimulator], session_for: SessionFor, seed: int
) -> list[int]:
    sim = factory(manual_clock=True)
    sim.set_random_faults(rate=0.5, seed=seed, slow_delay=0.01)
    session = session_for(sim)
    outcomes = [_outcome(session, "GET", f"{sim.url}/launch") for _ in range(40)]
    assert outcomes == [request.status for request in sim.requests]
    return outcomes


def test_random_faults_are_deterministic(
    wrk_simulator_factory: Callable[..., WrkSimulator], session_for: SessionFor
) -> None:
    first = _random_run(wrk_simulator_factory, session_for, seed=3)
    again = _random_run(wrk_simulator_factory, session_for, seed=3)
    other = _random_run(wrk_simulator_factory, session_for, seed=4)

    assert first == again
    assert first != other
    assert 8 <= sum(status != 200 for status in first) <= 32
    assert {0, 429, 500, 502, 503} & set(first + other) == {0, 429, 500, 502, 503}


def test_random_faults_off(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.set_random_faults(rate=1.0, kinds=[Fault.error(500)])
    session = session_for(seed_sim)
    assert session.get(f"{seed_sim.url}/launch").status_code == 500

    seed_sim.set_random_faults(rate=0)

    assert [session.get(f"{seed_sim.url}/launch").status_code for _ in range(5)] == [200] * 5


def test_random_kinds_include_retry_after(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    seed_sim.set_random_faults(rate=1.0, seed=9, kinds=[Fault.error(429, retry_after="1")])

    response = session_for(seed_sim).get(f"{seed_sim.url}/launch")

    assert (response.status_code, response.headers["Retry-After"]) == (429, "1")


def test_rate_limit(
    wrk_simulator_factory: Callable[..., WrkSimulator], session_for: SessionFor
) -> None:
    sim = wrk_simulator_factory(rate_limit=5)
    session = session_for(sim)

    responses = [session.get(f"{sim.url}/launch") for _ in range(8)]

    assert [response.status_code for response in responses[:5]] == [200] * 5
    limited = responses[5]
    assert limited.status_code == 429
    assert limited.json()["error"]["code"] == 429
    assert int(limited.headers["Retry-After"]) >= 1
    time.sleep(0.25)
    assert session.get(f"{sim.url}/launch").status_code == 200


def test_rate_limit_without_header(
    wrk_simulator_factory: Callable[..., WrkSimulator], session_for: SessionFor
) -> None:
    sim = wrk_simulator_factory(rate_limit=1, rate_limit_retry_after=False)
    session = session_for(sim)

    first, second = (session.get(f"{sim.url}/launch") for _ in range(2))

    assert (first.status_code, second.status_code) == (200, 429)
    assert "Retry-After" not in second.headers


def test_fault_is_frozen_with_readable_fields() -> None:
    dropped: FaultFields = Fault.drop()
    raw: FaultFields = Fault.body(b"x")

    assert (dropped.drop, dropped.status, dropped.times) == (True, None, 1)
    assert (raw.body, raw.status) == (b"x", 200)
    assert Fault.slow(2.5) == Fault(delay=2.5)
    assert dataclasses.is_dataclass(Fault)
    with pytest.raises(dataclasses.FrozenInstanceError):
        dropped.times = 3  # type: ignore[misc]
