"""``WrkHook`` built from real Airflow connections, talking to the simulator."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import quote

import pytest

from wrk_provider.client.errors import (
    WrkAuthenticationError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.models import Launch, LaunchStatus, Wrkflow
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.testing import Fault, WrkSimulator

pytestmark = pytest.mark.integration

UUID = "d3cb5c8d-de4b-4a72-84b3-e529c444d842"


def uri_for(sim: WrkSimulator, key: str | None = None) -> str:
    return "wrk://:" + quote(key or sim.api_key, safe="") + "@" + quote(sim.url, safe="")


def test_connection_in_uri_form(sim: WrkSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    launch_id = sim.add_launch()
    monkeypatch.setenv("AIRFLOW_CONN_WRK_DEFAULT", uri_for(sim))
    hook = WrkHook()

    assert hook.get_conn().config.base_url == sim.url
    assert [str(launch.launch_id) for launch in hook.get_launches()] == [str(launch_id)]
    assert sim.requests[0].headers["authorization"] == f"Api-Key {sim.api_key}"


def test_uri_form_with_a_key_that_needs_quoting(wrk_simulator_factory, monkeypatch) -> None:
    key = "k+/=:@?#%&"
    sim = wrk_simulator_factory(api_key=key, manual_clock=True)
    monkeypatch.setenv("AIRFLOW_CONN_WRK_DEFAULT", uri_for(sim))

    assert WrkHook().test_connection()[0] is True


def test_connection_in_json_form(sim: WrkSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_WRK_DEFAULT", sim.connection_uri())
    launch_id = sim.add_launch(status="paused")

    launch = WrkHook().get_launch(launch_id)

    assert launch.status is LaunchStatus.PAUSED


def test_seed_reference_snippet_through_the_hook(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim)
    sim.add_launch(launch_id=1234, wrkflow_uuid=UUID, start_date=1_728_673_181)
    sim.add_launch(launch_id=1235, wrkflow_uuid=UUID, status="paused", start_date=1_728_673_281)
    sim.add_launch(launch_id=1236, wrkflow_uuid=UUID, status="running", start_date=1_728_673_381)
    sim.add_launch(launch_id=99, wrkflow_uuid="another-wrkflow", status="running")
    hook = WrkHook()
    uuid = UUID

    wrkflow = hook.get_wrkflow(uuid)
    running_launches = wrkflow.get_launches(status_code=1)
    all_launches = wrkflow.launches
    launch = wrkflow.get_launches(launch_id=1234)
    launch.pause()
    paused = hook.get_launch(1234).status
    launch.resume()

    assert isinstance(wrkflow, Wrkflow)
    assert [str(item.launch_id) for item in running_launches] == ["1236", "1234"]
    assert [str(item.launch_id) for item in all_launches] == ["1236", "1235", "1234"]
    assert isinstance(launch, Launch)
    assert str(launch.launch_id) == "1234"
    assert paused is LaunchStatus.PAUSED
    assert hook.get_launch(1234).status is LaunchStatus.RUNNING
    assert sim.count("POST", "/launch/1234/pause") == 1
    assert sim.count("POST", "/launch/1234/resume") == 1


def test_wrkflow_launch_that_is_not_there(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim)
    sim.add_launch(launch_id=1234, wrkflow_uuid="someone-else")

    with pytest.raises(WrkNotFoundError) as caught:
        WrkHook().get_wrkflow(UUID).get_launches(launch_id=1234)

    assert f"Launch 1234 was not found in wrkflow {UUID}" in str(caught.value)


def test_hook_methods(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim)
    launch_id = sim.add_launch()
    hook = WrkHook()

    assert hook.pause_launch(launch_id) is True
    assert hook.get_launch(launch_id).is_paused
    assert hook.resume_launch(launch_id) is True
    assert [launch.is_running for launch in hook.iter_launches()] == [True]


def test_test_connection_succeeds(sim: WrkSimulator, seeded, use_connection) -> None:
    use_connection(sim)

    ok, message = WrkHook().test_connection()

    assert ok is True
    assert message == f"Connected to {sim.url}: 6 launches visible."
    assert len(sim.requests) == 1


def test_test_connection_with_a_wrong_key(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim, password="not-the-key")

    ok, message = WrkHook().test_connection()

    assert ok is False
    assert "HTTP 401" in message and "API key" in message
    assert "not-the-key" not in message
    assert len(sim.requests) == 1


def test_test_connection_unreachable(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim, max_retries=1)
    sim.stop()

    ok, message = WrkHook().test_connection()

    assert ok is False
    assert f"could not reach {sim.url}" in message
    assert "Gave up after 2 attempts" in message


def test_test_connection_with_a_bad_setting(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim, max_retries="many")

    ok, message = WrkHook().test_connection()

    assert ok is False
    assert message == "Connection 'wrk_default': max_retries='many' is not a number."


# Extras, and hook arguments over extras.


def test_timeout_extra(seed_sim: WrkSimulator, use_connection) -> None:
    use_connection(seed_sim, timeout=0.3, max_retries=0)
    seed_sim.inject("GET /launch", Fault.slow(1))
    hook = WrkHook()

    with pytest.raises(WrkUnreachableError, match="read timeout"):
        hook.get_launches()
    assert hook.get_conn().config.timeout == 0.3
    assert seed_sim.count("GET", "/launch") == 1


def test_max_retries_extra(seed_sim: WrkSimulator, use_connection) -> None:
    use_connection(seed_sim, max_retries="2")
    seed_sim.inject("GET /launch", Fault.error(503, times=0))

    with pytest.raises(WrkServerError, match="Gave up after 3 attempts"):
        WrkHook().get_launches()
    assert seed_sim.count("GET", "/launch") == 3


def test_auth_scheme_extra(wrk_simulator_factory, use_connection) -> None:
    sim = wrk_simulator_factory(auth_scheme="Bearer", manual_clock=True)
    use_connection(sim, "wrk_bearer", auth_scheme="Bearer")
    use_connection(sim, "wrk_plain")

    assert WrkHook("wrk_bearer").test_connection()[0] is True
    assert sim.requests[-1].headers["authorization"] == f"Bearer {sim.api_key}"
    with pytest.raises(WrkAuthenticationError):
        WrkHook("wrk_plain").get_launches()
    assert sim.requests[-1].headers["authorization"] == f"Api-Key {sim.api_key}"


def test_page_size_extra(openapi_sim: WrkSimulator, use_connection) -> None:
    use_connection(openapi_sim, page_size="5")
    for index in range(12):
        openapi_sim.add_launch(start_date=1_728_673_181 + index)

    assert len(WrkHook().get_launches()) == 12
    assert [r.query["page"] for r in openapi_sim.requests] == ["0", "1", "2"]
    assert {r.query["page_size"] for r in openapi_sim.requests} == {"5"}


def test_hook_arguments_beat_extras(seed_sim: WrkSimulator, use_connection) -> None:
    use_connection(seed_sim, timeout=30, max_retries=5)
    seed_sim.inject("GET /launch", Fault.error(503, times=0))
    hook = WrkHook(timeout=0.3, max_retries=0, retry_wait=0.01)

    with pytest.raises(WrkServerError) as caught:
        hook.get_launches()

    assert seed_sim.count("GET", "/launch") == 1
    assert "Gave up" not in str(caught.value)
    config = hook.get_conn().config
    assert (config.timeout, config.retry.max_attempts, config.retry.initial_wait) == (0.3, 1, 0.01)


def test_client_is_reused(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim)
    hook = WrkHook()
    client = hook.get_conn()
    session = client._session

    hook.get_launches()
    hook.test_connection()
    hook.get_launches(status_code=1)

    assert hook.get_conn() is client
    assert hook.get_conn()._session is session
    assert len(sim.requests) == 3


def test_close_drops_the_client(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim)
    hook = WrkHook()
    first = hook.get_conn()

    hook.close()

    assert hook.get_conn() is not first
    assert hook.get_launches() == []


def test_connection_changes_are_read_on_first_use(sim: WrkSimulator, monkeypatch) -> None:
    hook = WrkHook()
    monkeypatch.setenv("AIRFLOW_CONN_WRK_DEFAULT", sim.connection_uri())

    assert hook.get_launches() == []


def test_async_conn(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim)
    launch_id = sim.add_launch()
    hook = WrkHook()

    async def main() -> tuple[LaunchStatus | str, int, bool]:
        client = await hook.get_async_conn()
        try:
            await client.pause_launch(launch_id)
            launch = await client.get_launch(launch_id)
            count = len(await client.get_launches())
        finally:
            await client.aclose()
        return launch.status, count, client.is_closed

    assert asyncio.run(main()) == (LaunchStatus.PAUSED, 1, True)


def test_async_conn_uses_the_extras(seed_sim: WrkSimulator, use_connection) -> None:
    use_connection(seed_sim, timeout=0.3, max_retries=0)
    seed_sim.inject("GET /launch", Fault.slow(1))

    async def main() -> None:
        client = await WrkHook().get_async_conn()
        async with client:
            assert client.config.timeout == 0.3
            await client.get_launches()

    with pytest.raises(WrkUnreachableError, match="read timeout"):
        asyncio.run(main())
    assert seed_sim.count("GET", "/launch") == 1


def test_async_conn_names_a_bad_connection(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim, "wrk_bad", max_retries=-1)

    with pytest.raises(WrkInvalidInputError, match="Connection 'wrk_bad': max_retries=-1"):
        asyncio.run(WrkHook("wrk_bad").get_async_conn())


def test_async_conn_names_a_bad_request_budget(sim: WrkSimulator, use_connection) -> None:
    use_connection(sim, "wrk_bad", max_requests_per_second=0)

    with pytest.raises(
        WrkInvalidInputError, match="^Connection 'wrk_bad': max_requests_per_second=0"
    ):
        asyncio.run(WrkHook("wrk_bad").get_async_conn())


def test_connection_without_extras(sim: WrkSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    conn = {"conn_type": "wrk", "host": sim.url, "password": sim.api_key}
    monkeypatch.setenv("AIRFLOW_CONN_WRK_PLAIN", json.dumps(conn))

    client = WrkHook("wrk_plain").get_conn()

    assert (client.config.timeout, client.config.retry.max_attempts) == (30.0, 5)
