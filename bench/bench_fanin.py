"""Fan-in: K deferred waits in one event loop, against K pollers with a client each.

Each K and each side runs in a fresh worker process, against a simulator in a process of its
own, so the worker's CPU time and peak memory are the client side's alone. Launches are spread
over a few wrkflows and complete at seeded random times a few seconds apart; the simulator's
clock runs a minute per second, so the one-second poll interval stands for a one-minute
``poke_interval``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import (  # noqa: E402
    PYTHON,
    ROOT,
    Report,
    SimulatorProcess,
    Target,
    arguments,
    command,
    cpu_seconds,
    finish,
    isolate_airflow,
    median,
    peak_rss_mb,
    table,
)

SPEED = 60.0
"""Simulated seconds per wall-clock second."""
INTERVAL = 1.0
"""Seconds between looks at a launch, for both sides."""
DURATION = (2.0, 8.0)
"""Launch durations, in wall-clock seconds, drawn uniformly per launch."""
WRKFLOWS = 5
TIMEOUT = 180.0
BASELINE_MAX_K = 1_000
"""The simulator answers a few thousand requests a second at best on a small machine;
K = 10,000 independent pollers would ask for 10,000 a second, so above this the baseline
measures the simulator rather than the pollers."""

SIDES = {
    "ours": "`WrkLaunchTrigger`, one poller",
    "unknown": "the same, without `wrkflow_uuid`",
    "baseline": "own client per wait",
}
UNKNOWN_MAX_K = 100
"""Waits that do not know their launch's wrkflow, at one size only: their first looks are
single reads spaced by the request budget, so their cost grows with K alone."""

TARGET_REQUESTS_PER_LOOK = 0.05
TARGET_CPU_VS_BASELINE = 0.2
TARGET_RSS_MB = 200.0


# The worker: one side, one K, in a process of its own.


async def wait_with_triggers(job: dict[str, Any]) -> dict[str, Any]:
    """K real ``WrkLaunchTrigger`` runs, each consumed to its single event."""
    from wrk_provider.triggers.poller import LaunchPoller
    from wrk_provider.triggers.wrk import WrkLaunchTrigger

    end_time = time.time() + job["timeout"]

    known = job["side"] == "ours"

    async def wait(launch_id: int, wrkflow_uuid: str) -> tuple[list[dict[str, Any]], float]:
        trigger = WrkLaunchTrigger(
            launch_id=launch_id,
            wrk_conn_id="wrk_default",
            poll_interval=job["interval"],
            end_time=end_time,
            wrkflow_uuid=wrkflow_uuid if known else None,
        )
        started = time.monotonic()
        events = [event.payload async for event in trigger.run()]
        return events, time.monotonic() - started

    outcomes = await asyncio.gather(*(wait(i, w) for i, w in launches(job)))
    pollers = list(LaunchPoller._registry.values())
    return {
        "outcomes": [([e["status"] for e in events], took) for events, took in outcomes],
        "client_requests": sum(poller.requests for poller in pollers),
        "rounds": sum(poller.rounds for poller in pollers),
        "errors": 0,
    }


def build_clients(count: int, api_key: str) -> list[Any]:
    """The baseline's clients, one per wait, built before its launches start."""
    import httpx

    headers = {"Authorization": f"Api-Key {api_key}"}
    return [httpx.AsyncClient(headers=headers, timeout=30) for _ in range(count)]


async def wait_with_own_clients(job: dict[str, Any], clients: list[Any]) -> dict[str, Any]:
    """K independent pollers, each with an ``httpx.AsyncClient`` of its own, reading its
    launch every interval until it is completed: the pattern of most providers' triggers."""
    import httpx

    url = job["url"] + "/launch"
    end_time = time.time() + job["timeout"]
    sent = errors = 0

    async def wait(client: httpx.AsyncClient, launch_id: int) -> tuple[list[str], float]:
        nonlocal sent, errors
        started = time.monotonic()
        async with client:
            while time.time() < end_time:
                sent += 1
                try:
                    answer = await client.get(url, params={"launch_id": str(launch_id)})
                    answer.raise_for_status()
                    status = answer.json()["launches"][0]["state"]["status"]
                except (httpx.HTTPError, LookupError, ValueError):
                    errors += 1
                    status = None
                if status == "completed":
                    return ["success"], time.monotonic() - started
                await asyncio.sleep(job["interval"])
        return ["timeout"], time.monotonic() - started

    pairs = zip(clients, (i for i, _ in launches(job)), strict=True)
    outcomes = await asyncio.gather(*(wait(client, i) for client, i in pairs))
    return {"outcomes": outcomes, "client_requests": sent, "rounds": None, "errors": errors}


def launches(job: dict[str, Any]) -> list[tuple[int, str]]:
    """The launch ids and their wrkflows, as the simulator process numbered them."""
    wrkflows = job["wrkflows"]
    return [(job["first_id"] + i, wrkflows[i % len(wrkflows)]) for i in range(job["count"])]


def worker(report_fd: int) -> int:
    """Import everything and prepare (the baseline builds its clients), say ready, take the
    launches from stdin, wait for all of them, report, exit."""
    import httpx  # noqa: F401

    import wrk_provider.triggers.wrk  # noqa: F401

    with os.fdopen(report_fd, "w") as out:
        plan = json.loads(sys.stdin.readline())
        imported_rss = peak_rss_mb()
        setup = cpu_seconds()
        baseline = plan["side"] == "baseline"
        clients = build_clients(plan["count"], plan["api_key"]) if baseline else []
        setup_cpu = cpu_seconds() - setup
        out.write(json.dumps({"ready": True, "rss_mb": imported_rss}) + "\n")
        out.flush()

        job = json.loads(sys.stdin.readline())
        cpu, wall = cpu_seconds(), time.perf_counter()
        if baseline:
            result = asyncio.run(wait_with_own_clients(job, clients))
        else:
            result = asyncio.run(wait_with_triggers(job))
        result["cpu"] = cpu_seconds() - cpu + setup_cpu
        result["setup_cpu"] = setup_cpu
        result["wall"] = time.perf_counter() - wall
        result["rss_mb"] = peak_rss_mb()
        out.write(json.dumps(result) + "\n")
    return 0


# The orchestrator.


def measure(side: str, count: int, seed: int) -> dict[str, Any]:
    """One side at one K: a fresh simulator, a fresh worker, one run."""
    with (
        SimulatorProcess(dialect="seed", speed=SPEED) as sim,
        tempfile.TemporaryFile(mode="w+") as log,
    ):
        read_end, write_end = os.pipe()
        env = {**os.environ, "AIRFLOW_CONN_WRK_DEFAULT": sim.connection()}
        process = subprocess.Popen(
            [PYTHON, __file__, "--worker", str(write_end)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=log,
            pass_fds=(write_end,),
            env=env,
            cwd=ROOT,
            text=True,
        )
        os.close(write_end)
        assert process.stdin is not None
        with os.fdopen(read_end) as reports:
            plan = {"side": side, "count": count, "api_key": sim.api_key}
            process.stdin.write(json.dumps(plan) + "\n")
            process.stdin.flush()
            ready = _report(reports, process, log)
            sim.reset()
            added = sim.add_launches(
                count=count,
                wrkflows=WRKFLOWS,
                duration=[DURATION[0] * SPEED, DURATION[1] * SPEED],
                seed=seed,
            )
            job = {
                "side": side,
                "interval": INTERVAL,
                "timeout": TIMEOUT,
                "url": sim.url,
                "api_key": sim.api_key,
                **added,
            }
            process.stdin.write(json.dumps(job) + "\n")
            process.stdin.flush()
            result = _report(reports, process, log)
        process.stdin.close()
        process.wait()
        result["server_requests"] = sim.requests()
    result["ready_rss_mb"] = ready["rss_mb"]
    return result


def _report(reports: IO[str], process: subprocess.Popen[str], log: IO[str]) -> dict[str, Any]:
    line = reports.readline()
    if not line:
        process.wait()
        log.seek(0)
        tail = log.read()[-3000:]
        raise RuntimeError(f"the fan-in worker ended (exit {process.returncode}):\n{tail}")
    answer: dict[str, Any] = json.loads(line)
    return answer


def summarise(count: int, result: dict[str, Any]) -> dict[str, Any]:
    statuses = Counter(status for events, _ in result["outcomes"] for status in events)
    single = all(len(events) == 1 for events, _ in result["outcomes"])
    durations = [took for _, took in result["outcomes"]]
    looks = sum(int(took // INTERVAL) + 1 for took in durations)
    requests = result["server_requests"]
    return {
        "requests_per_wait": requests / count,
        "requests_per_look": requests / looks,
        "cpu_per_wait": result["cpu"] / count,
        "setup_cpu_per_wait": result["setup_cpu"] / count,
        "rss_mb": result["rss_mb"],
        "ready_rss_mb": result["ready_rss_mb"],
        "wall": result["wall"],
        "median_wait": median(durations),
        "poll_period": sum(durations) / max(1, result["client_requests"] - count),
        "succeeded": statuses.get("success", 0),
        "all_success": single and statuses.get("success", 0) == count,
        "statuses": dict(statuses),
        "requests": requests,
        "client_requests": result["client_requests"],
        "rounds": result["rounds"],
        "errors": result["errors"],
    }


def main() -> int:
    started = time.monotonic()
    parser = arguments(__doc__.splitlines()[0])
    parser.add_argument("--worker", type=int, metavar="FD", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker is not None:
        return worker(args.worker)
    isolate_airflow()
    from wrk_provider.hooks.wrk import DEFAULT_MAX_REQUESTS_PER_SECOND as budget

    sizes = [100, 1_000] if args.quick else [100, 1_000, 10_000]
    runs: dict[tuple[str, int], dict[str, Any]] = {}
    for count in sizes:
        for side in SIDES:
            if side == "baseline" and count > BASELINE_MAX_K:
                continue
            if side == "unknown" and count > UNKNOWN_MAX_K:
                continue
            print(f"fan-in: {side}, K = {count:,} ...", file=sys.stderr, flush=True)
            runs[side, count] = summarise(count, measure(side, count, seed=count))

    rows = []
    for (side, count), s in runs.items():
        base = runs.get(("baseline", count))
        cpu_ratio = f"{s['cpu_per_wait'] / base['cpu_per_wait']:.2f}x" if base else "n/a"
        rows.append(
            [
                SIDES[side],
                f"{count:,}",
                f"{s['requests_per_wait']:.3f}",
                f"{s['requests_per_look']:.4f}",
                f"{s['cpu_per_wait'] * 1e3:.2f} ms",
                cpu_ratio,
                f"{s['rss_mb']:.0f} MB (+{s['rss_mb'] - s['ready_rss_mb']:.0f})",
                f"{s['median_wait']:.1f} s",
                f"{s['wall']:.1f} s",
                f"{s['succeeded']:,}/{count:,}" + ("" if s["all_success"] else " **!**"),
            ]
        )
    headers = [
        "waits",
        "K",
        "requests per wait",
        "requests per wait per poll round",
        "CPU per wait",
        "CPU vs baseline",
        "peak RSS (+ over imports)",
        "median wait",
        "wall",
        "succeeded",
    ]
    report = Report(
        title="Fan-in: many deferred waits in one triggerer",
        command=command("bench_fanin.py", args.quick),
        tables=[table(headers, rows)],
        data={f"{side} {count}": s for (side, count), s in runs.items()},
    )

    ours_1k, base_1k = runs[("ours", 1_000)], runs[("baseline", 1_000)]
    cpu_ratio = ours_1k["cpu_per_wait"] / base_1k["cpu_per_wait"]
    report.targets = [
        Target(
            "requests per wait per poll round at K = 1,000",
            f"{ours_1k['requests_per_look']:.4f}",
            f"≤ {TARGET_REQUESTS_PER_LOOK}",
            ours_1k["requests_per_look"] <= TARGET_REQUESTS_PER_LOOK,
            f"the baseline: {base_1k['requests_per_look']:.2f}",
        ),
        Target(
            "CPU per wait against the baseline at K = 1,000",
            f"{cpu_ratio:.2f}x",
            f"≤ {TARGET_CPU_VS_BASELINE}x",
            cpu_ratio <= TARGET_CPU_VS_BASELINE,
            _without_setup(ours_1k, base_1k),
        ),
        Target(
            "peak RSS at K = 1,000",
            f"{ours_1k['rss_mb']:.0f} MB",
            f"< {TARGET_RSS_MB:.0f} MB",
            ours_1k["rss_mb"] < TARGET_RSS_MB,
            f"{ours_1k['ready_rss_mb']:.0f} MB of it after the imports, before any wait",
        ),
        Target(
            "every wait ended with exactly one success event",
            f"{sum(s['all_success'] for s in runs.values())} of {len(runs)} runs",
            "all",
            all(s["all_success"] for s in runs.values()),
        ),
    ]
    ours_rounds = "; ".join(
        f"{'without `wrkflow_uuid`, ' if side == 'unknown' else ''}K = {count:,}: "
        f"{s['rounds']} rounds, {s['requests']:,} requests "
        f"(`LaunchPoller.requests` says {s['client_requests']:,})"
        for (side, count), s in runs.items()
        if side != "baseline"
    )
    base_errors = "; ".join(
        f"K = {count:,}: {s['errors']:,} failed polls, a poll every {s['poll_period']:.2f} s "
        f"per wait on average, median wait {s['median_wait']:.1f} s"
        for (side, count), s in runs.items()
        if side == "baseline"
    )
    report.notes = [
        f"Launches in {WRKFLOWS} wrkflows, lasting {DURATION[0]:g} to {DURATION[1]:g} s of wall "
        f"time each (seeded, uniform; the simulator runs at {SPEED:g}x, so "
        f"{DURATION[0] * SPEED / 60:g} to {DURATION[1] * SPEED / 60:g} simulated minutes), "
        f"all started together; every wait looks every {INTERVAL:g} s and has "
        f"{TIMEOUT:g} s to finish. One run per row: a fresh simulator process (seed dialect) "
        "and a fresh worker process, which imports everything, reports ready, and only then "
        "gets its launches; the clock for wall time starts there.",
        "Ours: K `WrkLaunchTrigger(...).run()` generators in one event loop, each consumed to "
        "its single event, each given its launch's `wrkflow_uuid` as `WrkLaunchSensor` does "
        "after its first look. They share the connection's `LaunchPoller` and its one "
        f"`AsyncWrkClient`, with the default budget of {budget:g} requests a second. The "
        "baseline: K coroutines, each with an `httpx.AsyncClient` of its own, reading "
        "`GET /launch?launch_id=<id>` every interval until the launch is completed; it does "
        "no retries, builds no model and logs nothing, so it is a lean baseline. The row "
        f"without `wrkflow_uuid` (K = {UNKNOWN_MAX_K} only) shows waits whose trigger was "
        "made without it: the poller reads each such launch alone on its first round, and "
        f"those reads queue behind the budget of {budget:g} a second, so the first look at "
        f"the last of K launches comes about K / {budget:g} s after the start ('median "
        "wait'), whatever the launches do.",
        "Requests are counted by the simulator process (every request that reached it), not "
        "by the clients. 'Requests per wait per poll round' divides them by the looks the "
        "waits needed: for each wait, its duration over the interval, plus the first look. "
        "A poller per wait scores 1 when it keeps its interval, less when the simulator's "
        "answers slow it down. "
        f"Ours, for reference: {ours_rounds}. `LaunchPoller.requests` overcounts when single "
        "reads run concurrently, as on the first round without `wrkflow_uuid`: each read adds "
        "the client's whole request count over its own await, which overlaps the others'.",
        "'CPU per wait' is the worker's user and system CPU time from the moment it got its "
        "launches to the last event, divided by K, plus, for the baseline, building its K "
        "clients (done before the launches start); the simulator's CPU is in another process. "
        "Ours includes building each trigger and its hook and the trigger's log lines (written "
        "to a discarded stdout). 'Peak RSS' is the worker's `ru_maxrss`; the part in brackets "
        "is what the waits added over the imports. Most of the baseline's setup CPU and memory "
        "is the TLS context that every `httpx.AsyncClient` builds, loading the CA bundle, even "
        "for plain HTTP: that is what a client per wait costs.",
        f"The baseline runs up to K = {BASELINE_MAX_K:,}: the simulator answers a few "
        "thousand requests a second on one connection (its own rate is in the last section), "
        "and 10,000 independent pollers would ask for 10,000 a second, so at that size the "
        f"baseline would measure the simulator. Baseline runs: {base_errors}.",
    ]
    return finish(report, args, started)


def _without_setup(ours: dict[str, Any], base: dict[str, Any]) -> str:
    polling = ours["cpu_per_wait"] / (base["cpu_per_wait"] - base["setup_cpu_per_wait"])
    verdict = "within" if polling <= TARGET_CPU_VS_BASELINE else "above"
    return (
        f"building the baseline's {1_000:,} clients took {base['setup_cpu_per_wait'] * 1e3:.2f} "
        f"ms of CPU per wait; against its polling alone the ratio is {polling:.2f}x, {verdict} "
        "the target"
    )


if __name__ == "__main__":
    raise SystemExit(main())
