"""What is refused before a request leaves, and where the API key must never show up."""

from __future__ import annotations

import asyncio
import json
import logging
import pickle

import pytest

from wrk_provider.client.aio import AsyncWrkClient
from wrk_provider.client.errors import (
    WrkAPIError,
    WrkError,
    WrkInvalidInputError,
)
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.testing import Fault, WrkSimulator

pytestmark = pytest.mark.integration

BAD_IDS = [
    "1/../../x",
    "a b",
    "1?x=2",
    "1#frag",
    "..",
    "%2e%2e",
    "",
    None,
    -1,
    1.5,
    True,
    {"launch_id": 1},
    [1],
    "1" * 300,
    "12\n",
]


@pytest.mark.parametrize("bad", BAD_IDS, ids=repr)
def test_unsafe_launch_ids_send_nothing(sim: WrkSimulator, make_client, bad: object) -> None:
    client = make_client(sim)
    calls = [client.get_launch, client.pause_launch, client.resume_launch]

    for call in calls:
        with pytest.raises(WrkInvalidInputError) as caught:
            call(bad)
        assert "\n" not in str(caught.value)
        assert "launch_id=" in str(caught.value)
    if bad is not None:
        with pytest.raises(WrkInvalidInputError):
            client.get_launches(launch_id=bad)
    assert sim.requests == []


def test_long_id_is_shortened_in_the_message(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        make_client(sim).pause_launch("7" * 300)

    assert "7" * 41 not in str(caught.value)
    assert "at most 128 characters" in str(caught.value)
    assert sim.requests == []


@pytest.mark.parametrize("bad", ["1/../../x", "a b", "", None, -3, {"a": 1}], ids=repr)
def test_async_client_refuses_unsafe_ids_too(sim: WrkSimulator, bad: object) -> None:
    async def run() -> None:
        async with AsyncWrkClient(sim.api_key, base_url=sim.url) as client:
            for call in (client.get_launch, client.pause_launch, client.resume_launch):
                with pytest.raises(WrkInvalidInputError):
                    await call(bad)

    asyncio.run(run())
    assert sim.requests == []


def test_ids_the_api_sends_are_checked_before_acting(seed_sim: WrkSimulator, make_client):
    body = {
        "totalCount": 1,
        "launches": [{"launch_id": "../../x", "start_date": 1, "state": {"status": "running"}}],
    }
    seed_sim.inject("GET /launch", Fault.body(json.dumps(body).encode()))
    [launch] = make_client(seed_sim).get_launches()

    with pytest.raises(WrkInvalidInputError):
        launch.pause()
    assert seed_sim.count("POST") == 0


def test_redirect_is_not_followed(sim: WrkSimulator, wrk_simulator_factory, make_client) -> None:
    elsewhere = wrk_simulator_factory(api_key=sim.api_key, manual_clock=True)
    sim.inject("GET /launch", Fault.redirect(elsewhere.url + "/launch"))

    with pytest.raises(WrkAPIError) as caught:
        make_client(sim).get_launches()

    text = str(caught.value)
    assert "HTTP 307" in text
    assert f"redirected to {elsewhere.url}/launch" in text
    assert "not followed" in text
    assert elsewhere.requests == []
    assert len(sim.requests) == 1


def test_redirect_on_pause_is_not_followed(sim, wrk_simulator_factory, make_client) -> None:
    elsewhere = wrk_simulator_factory(api_key=sim.api_key, manual_clock=True)
    launch_id = sim.add_launch()
    target = f"{elsewhere.url}/launch/{launch_id}/pause"
    sim.inject("POST /launch/{id}/pause", Fault.redirect(target, status=308))

    with pytest.raises(WrkAPIError, match="redirected"):
        make_client(sim).pause_launch(launch_id)
    assert elsewhere.requests == []


def test_async_redirect_is_not_followed(sim: WrkSimulator, wrk_simulator_factory) -> None:
    elsewhere = wrk_simulator_factory(api_key=sim.api_key, manual_clock=True)
    sim.inject("GET /launch", Fault.redirect(elsewhere.url + "/launch"))

    async def run() -> None:
        async with AsyncWrkClient(sim.api_key, base_url=sim.url) as client:
            await client.get_launches()

    with pytest.raises(WrkAPIError, match="redirected"):
        asyncio.run(run())
    assert elsewhere.requests == []


def test_redirect_location_holding_the_key_is_scrubbed(sim: WrkSimulator, make_client) -> None:
    sim.inject("GET /launch", Fault.redirect(f"https://elsewhere.test/?key={sim.api_key}"))

    with pytest.raises(WrkAPIError) as caught:
        make_client(sim).get_launches()

    assert sim.api_key not in str(caught.value)
    assert "key=***" in str(caught.value)


def test_server_echoing_the_key_is_scrubbed(sim: WrkSimulator, make_client) -> None:
    body = {"error": {"message": f"key {sim.api_key} has expired"}}
    sim.inject("GET /launch", Fault.body(json.dumps(body).encode(), status=401))

    with pytest.raises(WrkError) as caught:
        make_client(sim).get_launches()

    assert sim.api_key not in str(caught.value)
    assert "key *** has expired" in str(caught.value)
    assert caught.value.server_message == "key *** has expired"


def collect_errors(sim: WrkSimulator, make_client) -> list[WrkError]:
    """Make the client fail in every way the simulator can, and keep what it raised."""
    fast = RetryPolicy(max_attempts=2, initial_wait=0.01)
    client = make_client(sim, retry=fast, timeout=0.2)
    launch_id = sim.add_launch()
    faults = [
        Fault.error(401),
        Fault.error(403),
        Fault.error(404),
        Fault.error(429, times=2),
        Fault.error(503, times=2),
        Fault.html(502, times=2),
        Fault.html(200),
        Fault.malformed(),
        Fault.drop(times=2),
        Fault.slow(0.5, times=2),
        Fault.redirect("https://elsewhere.test/"),
        Fault.body(json.dumps({"error": {"message": sim.api_key}}).encode(), status=400),
        Fault.body(b'{"status": false}'),
    ]
    errors: list[WrkError] = []
    for fault in faults:
        sim.inject("*", fault)
        try:
            client.pause_launch(launch_id)
        except WrkError as error:
            errors.append(error)
        sim.clear_faults()
    try:
        make_client(sim, api_key="wrong").get_launch(launch_id)
    except WrkError as error:
        errors.append(error)
    url, key = sim.url, sim.api_key
    sim.stop()
    try:
        WrkClient(key, base_url=url, retry=fast).get_launches()
    except WrkError as error:
        errors.append(error)
    return errors


def test_key_never_in_errors(sim: WrkSimulator, make_client) -> None:
    key = sim.api_key
    errors = collect_errors(sim, make_client)

    assert len(errors) == 15
    for error in errors:
        assert key not in str(error)
        assert key not in repr(error)
        assert key not in error.message
        assert key not in repr(vars(error))
        assert key.encode() not in pickle.dumps(error)
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert str(copy) == str(error)
        assert "\n" not in str(error)


def test_key_never_in_logs(
    sim: WrkSimulator, make_client, use_connection, caplog: pytest.LogCaptureFixture
) -> None:
    key = sim.api_key
    caplog.set_level(logging.DEBUG)
    for name in ("urllib3", "httpx", "httpcore", "requests", "airflow", "wrk_provider"):
        caplog.set_level(logging.DEBUG, logger=name)

    collect_errors(sim, make_client)
    sim.start()
    sim.add_launch(launch_id=9)
    use_connection(sim, max_retries=1)
    hook = WrkHook()
    hook.get_launches()
    hook.pause_launch(9)
    hook.test_connection()

    async def run() -> None:
        client = await hook.get_async_conn()
        sim.inject("GET /launch", Fault.error(503))
        await client.get_launches()
        await client.get_launch(9)
        await client.aclose()

    asyncio.run(run())

    assert len(caplog.records) > 10
    assert any(record.name.startswith("urllib3") for record in caplog.records)
    assert any(record.name.startswith("httpx") for record in caplog.records)
    assert key not in caplog.text
    for record in caplog.records:
        assert key not in record.getMessage()
        assert key not in repr(record.args)


def test_key_never_in_reprs(sim: WrkSimulator, make_client, use_connection) -> None:
    key = sim.api_key
    client = make_client(sim)
    use_connection(sim)
    hook = WrkHook()
    hook.get_conn()

    async def make_async() -> str:
        async with await hook.get_async_conn() as async_client:
            return repr(async_client) + repr(async_client.config)

    shown = [
        repr(client),
        str(client),
        repr(client.config),
        str(client.config),
        repr(client.config.api_key),
        repr(hook),
        repr(hook.get_conn()),
        repr(hook.get_conn().config),
        repr(client._session.auth),
        asyncio.run(make_async()),
    ]
    for text in shown:
        assert key not in text
    assert repr(client) == f"WrkClient(base_url={sim.url!r})"
    assert client.config.headers()["Authorization"] == f"Api-Key {key}"


def test_key_is_not_pickled(sim: WrkSimulator, make_client) -> None:
    client = make_client(sim)

    with pytest.raises(TypeError, match="not to be pickled"):
        pickle.dumps(client.config)


def test_key_sent_only_in_the_authorization_header(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch()
    client = make_client(sim)
    client.get_launches(status_code=1)
    client.get_launch(launch_id)
    client.pause_launch(launch_id)

    for request in sim.requests:
        assert request.headers["authorization"] == f"Api-Key {sim.api_key}"
        assert sim.api_key not in request.path
        assert sim.api_key not in json.dumps(request.query)
        assert sim.api_key.encode() not in request.body
