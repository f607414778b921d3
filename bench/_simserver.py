"""Serve a ``WrkSimulator`` for a benchmark running in another process.

Started by ``_common.SimulatorProcess`` with the simulator's options as a JSON argument. It
prints ``{"url", "api_key", "port"}``, then answers JSON commands on stdin, one line each:

- ``{"op": "add", "count", "wrkflows", "duration": [low, high], "seed", "status",
  "start_step"}`` adds launches spread over that many new wrkflows (launch ``i`` in wrkflow
  ``i % wrkflows``), durations drawn uniformly in simulated seconds; answers ``first_id``,
  ``count`` and the wrkflow uuids.
- ``{"op": "count"}`` answers how many requests were served since the start or the last
  ``{"op": "reset"}``.

With ``"tls": {"cert", "key"}`` among the options it serves HTTPS. It stops when stdin
closes. Requests are counted by wrapping the request pipeline, because the simulator's own
request log keeps only the latest 100,000.
"""

from __future__ import annotations

import json
import random
import ssl
import sys
import threading
from typing import Any

from wrk_provider.testing import WrkSimulator
from wrk_provider.testing.api import Api
from wrk_provider.testing.server import SimulatorServer


class _Counter:
    """Counts the requests that reach the simulator's pipeline, from every server thread."""

    def __init__(self) -> None:
        self.value = 0
        self._lock = threading.Lock()
        self._handle = Api.handle

    def install(self) -> None:
        handle = self._handle

        def counted(api: Api, *args: Any) -> Any:
            with self._lock:
                self.value += 1
            return handle(api, *args)

        Api.handle = counted  # type: ignore[method-assign]


def serve_tls(cert: str, key: str) -> None:
    """Wrap every accepted connection in TLS, as the real API is HTTPS only; the handshake
    happens in the accepting thread."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    accept = SimulatorServer.get_request

    def get_request(server: SimulatorServer) -> Any:
        connection, address = accept(server)
        try:
            return context.wrap_socket(connection, server_side=True), address
        except OSError:
            connection.close()
            raise

    SimulatorServer.get_request = get_request  # type: ignore[method-assign]


def add(sim: WrkSimulator, spec: dict[str, Any]) -> dict[str, Any]:
    """Add the launches a spec asks for; their ids run on from ``first_id`` without gaps."""
    count = int(spec["count"])
    rng = random.Random(spec.get("seed", 0))
    wrkflows = [sim.add_wrkflow() for _ in range(int(spec.get("wrkflows", 1)))]
    low, high = spec.get("duration", (60.0, 60.0))
    status = spec.get("status", "running")
    step = float(spec.get("start_step", 0.0))
    now = sim.now()
    first = None
    for index in range(count):
        launch_id = sim.add_launch(
            wrkflow_uuid=wrkflows[index % len(wrkflows)],
            status=status,
            duration=rng.uniform(low, high),
            start_date=now - step * (count - index) if step else None,
        )
        first = launch_id if first is None else first
        if launch_id != first + index:
            raise RuntimeError(f"launch ids are not consecutive: {launch_id} after {first}")
    return {"first_id": first, "count": count, "wrkflows": wrkflows}


def main() -> int:
    options = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    tls = options.pop("tls", None)
    if tls:
        serve_tls(tls["cert"], tls["key"])
    counter = _Counter()
    counter.install()
    with WrkSimulator(**options) as sim:
        url = sim.url.replace("http://", "https://", 1) if tls else sim.url
        print(json.dumps({"url": url, "api_key": sim.api_key, "port": sim.port}), flush=True)
        for line in sys.stdin:
            try:
                command = json.loads(line)
                op = command.pop("op")
                if op == "add":
                    answer = add(sim, command)
                elif op == "count":
                    answer = {"requests": counter.value}
                elif op == "reset":
                    counter.value = 0
                    answer = {}
                else:
                    answer = {"error": f"unknown op {op!r}"}
            except Exception as exc:
                answer = {"error": f"{type(exc).__name__}: {exc}"}
            print(json.dumps(answer), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
