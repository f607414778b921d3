"""Measure how many requests a second the Wrk simulator answers over one keep-alive session."""

from __future__ import annotations

import sys
import time

import requests

from wrk_provider.testing import WrkSimulator


def measure(seconds: float = 2.0, path: str = "/launch", launches: int = 20) -> float:
    """Return requests per second for ``GET path`` from a single ``requests.Session``."""
    with WrkSimulator(manual_clock=True) as sim:
        for _ in range(launches):
            sim.add_launch()
        with requests.Session() as session:
            session.headers["Authorization"] = f"Api-Key {sim.api_key}"
            url = sim.url + path
            session.get(url).raise_for_status()
            done = 0
            started = time.perf_counter()
            deadline = started + seconds
            while time.perf_counter() < deadline:
                session.get(url).raise_for_status()
                done += 1
            return done / (time.perf_counter() - started)


def main() -> int:
    """Print the measured rate for a list of launches and for the smallest route."""
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 2.0
    print(f"GET /launch (20 launches):  {measure(seconds):,.0f} req/s")
    one = measure(seconds, "/launch?launch_id=1010")
    print(f"GET /launch?launch_id=1010: {one:,.0f} req/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
