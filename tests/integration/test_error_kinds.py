"""Each kind of failure, as the API or the network produces it, and what its message says."""

from __future__ import annotations

import json

import pytest

from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkRefusedError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient
from wrk_provider.testing import Fault, WrkSimulator

pytestmark = pytest.mark.integration

ONE_TRY = RetryPolicy(max_attempts=1)


def one_line(error: WrkError) -> str:
    text = str(error)
    assert "\n" not in text and "\r" not in text
    assert text == error.message
    return text


def test_wrong_key(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkAuthenticationError) as caught:
        make_client(sim, api_key="wrong-key").get_launches()

    text = one_line(caught.value)
    assert text.startswith("GET /launch failed with HTTP 401 (Missing or invalid API key")
    assert "check the connection's API key" in text
    assert (caught.value.status_code, caught.value.endpoint) == (401, "GET /launch")


def test_wrong_auth_scheme(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkAuthenticationError, match="HTTP 401"):
        make_client(sim, auth_scheme="Bearer").get_launches()


def test_forbidden(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch()
    sim.inject("POST /launch/{id}/pause", Fault.error(403))

    with pytest.raises(WrkAuthenticationError) as caught:
        make_client(sim).pause_launch(launch_id)

    text = one_line(caught.value)
    assert f"POST /launch/{launch_id}/pause for launch {launch_id}" in text
    assert "HTTP 403" in text and "permissions" in text
    assert caught.value.launch_id == str(launch_id)


def test_pause_missing_launch(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkNotFoundError) as caught:
        make_client(sim).pause_launch(555)

    text = one_line(caught.value)
    assert "POST /launch/555/pause for launch 555 failed with HTTP 404" in text
    assert "Launch 555 not found" in text
    assert "check the launch id" in text
    assert caught.value.launch_id == "555"


def test_get_missing_launch_names_it(sim: WrkSimulator, make_client) -> None:
    sim.add_launch(launch_id=1)

    with pytest.raises(WrkNotFoundError) as caught:
        make_client(sim).get_launch(555)

    text = one_line(caught.value)
    assert "555" in text and "not found" in text.lower()
    assert "check the launch id" in text
    assert (caught.value.launch_id, caught.value.status_code) == ("555", 404)


def test_rate_limited(sim: WrkSimulator, make_client) -> None:
    sim.inject("GET /launch", Fault.error(429, retry_after="0"))

    with pytest.raises(WrkRateLimitedError) as caught:
        make_client(sim, retry=ONE_TRY).get_launches()

    text = one_line(caught.value)
    assert "GET /launch failed with HTTP 429" in text and "rate limiting" in text


@pytest.mark.parametrize("status", [500, 502, 503, 504, 501])
def test_server_error(sim: WrkSimulator, make_client, status: int) -> None:
    sim.inject("GET /launch", Fault.error(status))

    with pytest.raises(WrkServerError) as caught:
        make_client(sim, retry=ONE_TRY).get_launches()

    assert f"HTTP {status}" in one_line(caught.value)
    assert caught.value.status_code == status


def test_html_error_page(sim: WrkSimulator, make_client) -> None:
    sim.inject("GET /launch", Fault.html(502))

    with pytest.raises(WrkServerError) as caught:
        make_client(sim, retry=ONE_TRY).get_launches()

    assert "HTTP 502 (an HTML page)" in one_line(caught.value)


def test_html_with_200(sim: WrkSimulator, make_client) -> None:
    sim.inject("GET /launch", Fault.html(200))

    with pytest.raises(WrkBadResponseError) as caught:
        make_client(sim).get_launches()

    text = one_line(caught.value)
    assert "GET /launch answered HTTP 200 with a body that is not JSON (text/html)" in text
    assert "base URL" in text


def test_cut_off_json(sim: WrkSimulator, make_client) -> None:
    sim.inject("GET /launch", Fault.malformed())

    with pytest.raises(WrkBadResponseError, match="not JSON"):
        make_client(sim).get_launches()
    assert len(sim.requests) == 1


def test_empty_list_body(sim: WrkSimulator, make_client) -> None:
    sim.inject("GET /launch", Fault.body(b""))

    with pytest.raises(WrkBadResponseError, match="empty body"):
        make_client(sim).get_launches()


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"totalCount": 0}, "without a 'launches' list"),
        ({"launches": {"a": 1}}, "without a 'launches' list"),
        ([], "without a 'launches' list"),
        (
            {"launches": [{"launch_id": 8, "start_date": 1}]},
            "launch 8: 'state' as NoneType, expected a JSON object",
        ),
        (
            {"launches": [{"launch_id": 8, "start_date": 1, "state": {}}]},
            "launch 8 with no usable 'state.status'",
        ),
        (
            {"launches": [{"start_date": 1, "state": {"status": "running"}}]},
            "without a usable 'launch_id' or 'id'",
        ),
        (
            {"launches": [{"id": "8", "start_date": 1, "state": {"status": 3}}]},
            "launch 8 with no usable 'state.status' (got 3)",
        ),
        (
            {
                "launches": [
                    {"id": "8", "start_date": 1, "state": {"status": "RUNNING", "num_errors": "x"}}
                ]
            },
            "'state.num_errors'='x', expected a non-negative number",
        ),
        (
            {"launches": [{"id": "8", "start_date": "soon", "state": {"status": "running"}}]},
            "'start_date'='soon'",
        ),
        (
            {"launches": [{"id": 8, "name": 5, "start_date": 1, "state": {"status": "paused"}}]},
            "'name' as int, expected a string",
        ),
        ({"launches": [], "total_count": "3"}, "'total_count'='3', expected a whole number"),
    ],
    ids=[
        "no launches",
        "launches not a list",
        "a list body",
        "no state",
        "no status",
        "no id",
        "status a number",
        "count a string",
        "bad start date",
        "name a number",
        "total a string",
    ],
)
def test_bad_list_answers(sim: WrkSimulator, make_client, body: object, words: str) -> None:
    sim.inject("GET /launch", Fault.body(json.dumps(body).encode()))

    with pytest.raises(WrkBadResponseError) as caught:
        make_client(sim).get_launches()

    text = one_line(caught.value)
    assert text.startswith("GET /launch")
    assert words in text
    assert len(sim.requests) == 1


def test_bad_single_launch_answer(openapi_sim: WrkSimulator, make_client) -> None:
    launch_id = openapi_sim.add_launch()
    client = make_client(openapi_sim)
    client.get_launch(launch_id)
    body = {"launch": {"id": str(launch_id), "start_date": 1, "state": None}}
    openapi_sim.inject("GET /launch/{id}", Fault.body(json.dumps(body).encode()))

    with pytest.raises(WrkBadResponseError) as caught:
        client.get_launch(launch_id)

    text = one_line(caught.value)
    assert f"GET /launch/{launch_id} for launch {launch_id}" in text
    assert "'state'" in text


def test_refused_pause(seed_sim: WrkSimulator, make_client) -> None:
    launch_id = seed_sim.add_launch(status="completed")

    with pytest.raises(WrkRefusedError) as caught:
        make_client(seed_sim).pause_launch(launch_id)

    text = one_line(caught.value)
    assert f"refused to pause launch {launch_id}" in text
    assert caught.value.launch_id == str(launch_id)
    assert seed_sim.requests[-1].status == 200


def test_refused_resume_in_the_body(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch()
    sim.inject("POST /launch/{id}/resume", Fault.body(b'{"status": false}'))

    with pytest.raises(WrkRefusedError, match=f"refused to resume launch {launch_id}"):
        make_client(sim).resume_launch(launch_id)
    assert sim.count("POST", "/launch/{id}/resume") == 1


def test_conflict_on_a_completed_launch(openapi_sim: WrkSimulator, make_client) -> None:
    launch_id = openapi_sim.add_launch(status="completed")

    with pytest.raises(WrkAPIError) as caught:
        make_client(openapi_sim).resume_launch(launch_id)

    text = one_line(caught.value)
    assert type(caught.value) is WrkAPIError
    assert "HTTP 409" in text and "cannot be resumed" in text


def test_odd_action_answer(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch()
    sim.inject("POST /launch/{id}/pause", Fault.body(b'{"status": "maybe"}'))

    with pytest.raises(WrkBadResponseError, match="'status'='maybe', expected true or false"):
        make_client(sim).pause_launch(launch_id)


def test_connection_refused(sim: WrkSimulator) -> None:
    url, key = sim.url, sim.api_key
    sim.stop()
    client = WrkClient(key, base_url=url, retry=RetryPolicy(max_attempts=2, initial_wait=0.01))

    with pytest.raises(WrkUnreachableError) as caught:
        client.get_launch(12)

    text = one_line(caught.value)
    assert text.startswith(f"GET /launch for launch 12 could not reach {url}")
    assert "connection failed" in text
    assert text.endswith("Gave up after 2 attempts.")
    assert caught.value.launch_id == "12"
