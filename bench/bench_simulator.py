"""The simulator's own rate: how many requests a second it answers, so that the other
benchmarks measure the client and not the simulator.

The simulator runs in this process, as it does in a user's test; the clients run in a process
of their own, so that the two do not share an interpreter. The lean client writes each request
on one keep-alive socket and reads the answer by its ``Content-Length``, which costs far less
than the simulator's work; a ``requests.Session`` is the context row, for what a real client
adds on top.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import PYTHON, Report, Target, arguments, command, finish, median, table  # noqa: E402

TARGET_RATE = 2000.0
LAUNCHES = 20
ROUTES = {
    f"GET /launch ({LAUNCHES} launches)": "/launch",
    "GET /launch?launch_id=<id>": "/launch?launch_id={launch_id}",
}


def lean_client(url: str, api_key: str, seconds: float) -> float:
    """Requests a second over one keep-alive socket, reading answers by their length."""
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    request = (
        f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\nAuthorization: Api-Key {api_key}\r\n\r\n"
    ).encode()
    with socket.create_connection((parts.hostname, parts.port)) as sock:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        reader = sock.makefile("rb")

        def one() -> None:
            sock.sendall(request)
            status = reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"{target} answered {status!r}")
            length = 0
            for line in iter(reader.readline, b"\r\n"):
                if not line:
                    raise RuntimeError(f"{target}: the connection closed mid-answer")
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            reader.read(length)

        return _rate(one, seconds)


def requests_client(url: str, api_key: str, seconds: float) -> float:
    """Requests a second from one ``requests.Session``, decoding each answer's JSON."""
    import requests

    with requests.Session() as session:
        session.headers["Authorization"] = f"Api-Key {api_key}"

        def one() -> None:
            answer = session.get(url)
            answer.raise_for_status()
            answer.json()

        return _rate(one, seconds)


def _rate(one: object, seconds: float) -> float:
    assert callable(one)
    one()
    done = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline:
        one()
        done += 1
    return done / (time.perf_counter() - started)


CLIENTS = {"lean": lean_client, "requests": requests_client}


def measure(client: str, url: str, api_key: str, seconds: float) -> float:
    """Run one client in a fresh process against ``url``; its rate in requests a second."""
    done = subprocess.run(
        [PYTHON, __file__, "--client", client, url, api_key, str(seconds)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the {client} client failed: {done.stderr.strip()[-2000:]}")
    return float(done.stdout)


def main() -> int:
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--client", nargs=4, metavar=("KIND", "URL", "KEY", "SECONDS"))
    args = parser.parse_args()
    if args.client:
        kind, url, api_key, seconds = args.client
        print(CLIENTS[kind](url, api_key, float(seconds)))
        return 0

    from wrk_provider.testing import WrkSimulator

    started = time.monotonic()
    seconds = 1.0 if args.quick else 2.0
    repeats = 3
    rates: dict[str, dict[str, list[float]]] = {
        route: {kind: [] for kind in CLIENTS} for route in ROUTES
    }
    with WrkSimulator(manual_clock=True) as sim:
        launch_ids = [sim.add_launch() for _ in range(LAUNCHES)]
        for _ in range(repeats):
            for route, path in ROUTES.items():
                url = sim.url + path.format(launch_id=launch_ids[LAUNCHES // 2])
                for client in CLIENTS:
                    rates[route][client].append(measure(client, url, sim.api_key, seconds))

    rows = []
    for route, by_client in rates.items():
        lean, session = median(by_client["lean"]), median(by_client["requests"])
        rows.append([f"`{route}`", f"{lean:,.0f}", f"{session:,.0f}", f"{session / lean:.2f}x"])
    slowest = min(median(by_client["lean"]) for by_client in rates.values())
    report = Report(
        title="The simulator's own rate",
        command=command("bench_simulator.py", args.quick),
        tables=[
            table(
                ["route", "lean client, req/s", "`requests.Session`, req/s", "session / lean"],
                rows,
            )
        ],
        targets=[
            Target(
                "requests a second on its slowest route, one keep-alive connection",
                f"{slowest:,.0f} req/s",
                f"≥ {TARGET_RATE:,.0f} req/s",
                slowest >= TARGET_RATE,
            )
        ],
        notes=[
            f"The simulator (seed dialect, {LAUNCHES} launches, a frozen clock) runs in the "
            "benchmark's process, as `WrkSimulator` does in a test; each client runs in a "
            f"fresh process for {seconds:g} s, one keep-alive connection, {repeats} runs a "
            "route taking turns; medians. The lean client sends the same request bytes each "
            "time and reads the answer by its `Content-Length`, so its rate is close to the "
            "simulator's own; the `requests.Session` column adds a real client's cost, and is "
            "why the read benchmark's clients, not the simulator, set its pace.",
        ],
    )
    return finish(report, args, started)


if __name__ == "__main__":
    raise SystemExit(main())
