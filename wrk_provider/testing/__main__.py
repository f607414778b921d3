"""Run the simulator from a shell: ``python -m wrk_provider.testing``."""

from __future__ import annotations

import argparse
import random
import shlex
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from wrk_provider.testing.simulator import WrkSimulator

_DEMO_WRKFLOWS = ("Invoice processing", "Lead enrichment")
_DEMO_STATUSES = ("running", "running", "paused", "completed")


def seed_demo(sim: WrkSimulator, count: int, seed: int = 0) -> list[int]:
    """Add ``count`` launches spread over two wrkflows, in every status; return their ids."""
    rng = random.Random(seed)
    wrkflows = [sim.add_wrkflow(name=name) for name in _DEMO_WRKFLOWS]
    now = sim.now()
    ids = []
    for index in range(count):
        status = _DEMO_STATUSES[index % len(_DEMO_STATUSES)]
        duration = float(rng.choice((300, 900, 1800, 3600)))
        ids.append(
            sim.add_launch(
                wrkflow_uuid=wrkflows[index % len(wrkflows)],
                name=f"{_DEMO_WRKFLOWS[index % len(wrkflows)]} #{index + 1}",
                status=status,
                start_date=int(now) - 600 * (index + 1) - rng.randrange(300),
                duration=duration,
                total_tasks=rng.choice((20, 50, 100, 250)),
                num_errors=rng.choice((0, 0, 0, 1, 3)),
                elapsed=duration * rng.uniform(0.1, 0.8),
            )
        )
    return ids


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m wrk_provider.testing",
        description="Serve a simulated Wrk API on this machine until interrupted.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="port to bind; 0 picks a free one")
    parser.add_argument("--dialect", choices=("seed", "openapi"), default="seed")
    parser.add_argument("--api-key", default=None, help="API key to accept (random if omitted)")
    parser.add_argument("--launches", type=int, default=6, help="demo launches to create")
    parser.add_argument("--speed", type=float, default=1.0, help="simulated seconds per second")
    parser.add_argument("--seed", type=int, default=0, help="seed for the demo data")
    parser.add_argument(
        "--action-delay",
        type=float,
        default=0.0,
        help="seconds before a 202 pause or resume takes effect (openapi)",
    )
    parser.add_argument("--rate-limit", type=float, default=None, help="requests per second")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Start the simulator, print how to reach it, serve until SIGINT or SIGTERM."""
    args = _parser().parse_args(argv)
    sim = WrkSimulator(
        api_key=args.api_key,
        dialect=args.dialect,
        speed=args.speed,
        action_delay=args.action_delay,
        rate_limit=args.rate_limit,
        host=args.host,
        port=args.port,
        seed=args.seed,
    )
    if args.launches:
        seed_demo(sim, args.launches, args.seed)

    stopping = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:
        stopping.set()

    signal.signal(signal.SIGINT, _stop)
    signal.signal(signal.SIGTERM, _stop)

    try:
        sim.start()
    except OSError as exc:
        print(f"Cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr, flush=True)
        return 1
    with sim:
        print(f"Wrk simulator listening on {sim.url}", flush=True)
        print(f"API key: {sim.api_key}", flush=True)
        print(f"export AIRFLOW_CONN_WRK_DEFAULT={shlex.quote(sim.connection_uri())}", flush=True)
        while not stopping.wait(0.5):
            pass
    print("Wrk simulator stopped", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
