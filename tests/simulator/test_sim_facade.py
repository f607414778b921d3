"""The request log, lifecycle of the server, the CLI and the pytest fixtures."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests

import wrk_provider.testing
from wrk_provider.testing import Fault, RecordedRequest, WrkSimulator

from .support import SessionFor

ROOT = Path(wrk_provider.testing.__file__).resolve().parents[2]


def test_request_log(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    launch_id = seed_sim.add_launch()
    session = session_for(seed_sim)

    session.get(f"{seed_sim.url}/launch", params={"status_code": "1", "x": ""})
    session.post(f"{seed_sim.url}/launch/{launch_id}/pause", json={"reason": "test"})
    requests.get(f"{seed_sim.url}/launch", timeout=5)

    first, second, third = seed_sim.requests
    assert isinstance(first, RecordedRequest)
    assert (first.method, first.path, first.query, first.status) == (
        "GET",
        "/launch",
        {"status_code": "1", "x": ""},
        200,
    )
    assert first.headers["authorization"] == f"Api-Key {seed_sim.api_key}"
    assert (second.method, second.path, second.status) == (
        "POST",
        f"/launch/{launch_id}/pause",
        200,
    )
    assert json.loads(second.body) == {"reason": "test"}
    assert (third.status, "authorization" in third.headers) == (401, False)
    assert first.time <= second.time <= third.time


def test_count(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    first, second = seed_sim.add_launch(), seed_sim.add_launch()
    session = session_for(seed_sim)
    seed_sim.inject("POST /launch/*", Fault.error(500))
    for launch_id in (first, second, first):
        session.post(f"{seed_sim.url}/launch/{launch_id}/pause")
    session.get(f"{seed_sim.url}/launch")

    assert seed_sim.count() == 4
    assert seed_sim.count("GET") == 1
    assert seed_sim.count("POST") == 3
    assert seed_sim.count("POST", f"/launch/{first}/pause") == 2
    assert seed_sim.count("POST", "/launch/{id}/pause") == 3
    assert seed_sim.count(path="/launch") == 1
    assert seed_sim.count("GET", "/launch/{id}/pause") == 0
    seed_sim.clear_requests()
    assert (seed_sim.count(), seed_sim.requests) == (0, [])


def test_repr_and_connection_uri_hide_nothing_they_should_not() -> None:
    sim = WrkSimulator(api_key="very-secret-key")
    assert "very-secret-key" not in repr(sim)
    assert "unbound" in repr(sim)

    with sim:
        text = repr(sim)
        conn = json.loads(sim.connection_uri())

    assert "very-secret-key" not in text
    assert sim.url in text
    assert conn == {"conn_type": "wrk", "host": sim.url, "password": "very-secret-key"}
    assert sim.url == f"http://127.0.0.1:{sim.port}/api/v1"


def test_url_needs_a_port() -> None:
    with pytest.raises(RuntimeError, match="start"):
        _ = WrkSimulator().url


def test_stop_is_idempotent_and_start_reuses_port(session_for: SessionFor) -> None:
    sim = WrkSimulator(manual_clock=True)
    sim.add_launch()
    with sim:
        port = sim.port
        session = session_for(sim)
        assert session.get(f"{sim.url}/launch").status_code == 200
    sim.stop()

    assert not sim.running
    with pytest.raises(requests.ConnectionError):
        session.get(f"{sim.url}/launch", timeout=2)

    with sim:
        assert sim.port == port
        assert session.get(f"{sim.url}/launch").json()["totalCount"] == 1


def test_stop_interrupts_a_slow_answer(session_for: SessionFor) -> None:
    sim = WrkSimulator().start()
    sim.inject("*", Fault.slow(30))
    session = session_for(sim)

    result: list[int] = []

    def call() -> None:
        try:
            result.append(session.get(f"{sim.url}/launch", timeout=10).status_code)
        except requests.ConnectionError:
            result.append(0)

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(0.2)
    started = time.perf_counter()
    sim.stop()
    worker.join(5)

    assert time.perf_counter() - started < 3
    assert not worker.is_alive()
    assert result in ([200], [0])
    assert sim.count() == 1


def test_plugin_factory_stops_its_simulators(
    wrk_simulator: WrkSimulator, wrk_simulator_factory: Callable[..., WrkSimulator]
) -> None:
    made = wrk_simulator_factory(dialect="openapi")

    assert wrk_simulator.running and made.running
    assert made.dialect == "openapi"
    before = wrk_simulator.now()
    assert wrk_simulator.now() == before


def _cli(*args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "wrk_provider.testing", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT])
def test_cli_serves_and_stops_cleanly(stop_signal: signal.Signals) -> None:
    process = _cli("--launches", "4", "--api-key", "cli-key", "--dialect", "openapi")
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().rstrip("\n") for _ in range(3)]
        url = lines[0].removeprefix("Wrk simulator listening on ")
        payload = requests.get(
            f"{url}/launch", headers={"Authorization": "Api-Key cli-key"}, timeout=5
        ).json()
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=10)

    assert lines[0].startswith("Wrk simulator listening on http://127.0.0.1:")
    assert url.endswith("/api/v1")
    assert lines[1] == "API key: cli-key"
    conn = json.dumps({"conn_type": "wrk", "host": url, "password": "cli-key"})
    assert lines[2] == f"export AIRFLOW_CONN_WRK_DEFAULT='{conn}'"
    assert payload["total_count"] == 4
    assert sorted(launch["state"]["status"] for launch in payload["launches"]) == [
        "COMPLETED",
        "PAUSED",
        "RUNNING",
        "RUNNING",
    ]
    assert process.returncode == 0
    assert err == ""
    assert out.strip() == "Wrk simulator stopped"


def test_cli_reports_a_busy_port(seed_sim: WrkSimulator) -> None:
    process = _cli("--port", str(seed_sim.port))
    out, err = process.communicate(timeout=10)

    assert process.returncode == 1
    assert out == ""
    assert f"Cannot listen on 127.0.0.1:{seed_sim.port}" in err
