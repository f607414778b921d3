"""The rules of coalesced polling (``wrk_provider.triggers.poller``), one test each.

(a) a trigger reports only what the API said about its own launch, and a launch missing from a
listing is read on its own before anything is concluded; (b) no launch is polled more often than
its trigger asked; (c) one trigger's cancellation or failure leaves the others alone; (d) the
poller stops when nothing waits; (e) a trigger rebuilt from its serialized kwargs, in another
event loop or several at once, reaches the same verdict; (f) one request budget per connection;
(g) the fewest requests: one listing per round for a wrkflow, pages only when they are cheaper
than single reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from wrk_provider.testing import Fault, RecordedRequest, WrkSimulator
from wrk_provider.triggers.poller import LaunchPoller

from .support import (
    QUICK_EXTRAS,
    import_string,
    list_reads,
    make_trigger,
    poller_of,
    rounds_of,
    run_trigger,
    single_reads_of,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(120)]

SimulatorFactory = Callable[..., WrkSimulator]
UseConnection = Callable[..., None]
T0 = 1_728_673_181
INTERVAL = 0.3


async def wait_until(condition: Callable[[], bool], limit: float = 15.0) -> None:
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting after {limit} s")
        await asyncio.sleep(0.02)


def reads_of(sim: WrkSimulator, launch_id: int, wrkflow_uuid: str | None = None) -> int:
    """How many requests could have told about the launch: single reads and listings."""
    requests = sim.requests
    lists = list_reads(requests, wrkflow_uuid) if wrkflow_uuid else []
    return len(single_reads_of(requests, launch_id)) + len(lists)


def only_success(events: list[dict[str, Any]], launch_id: int) -> dict[str, Any]:
    assert len(events) == 1, events
    event = events[0]
    assert event["status"] == "success", event
    assert event["launch_id"] == str(launch_id)
    assert str(event["launch"]["launch_id"]) == str(launch_id)
    assert event["launch"]["state"]["status"] == "completed"
    return event


def listing_body(sim: WrkSimulator, *launch_ids: int) -> bytes:
    """A list answer, in the simulator's dialect, that holds only these launches."""
    items = [sim.launch(launch_id) for launch_id in launch_ids]
    if sim.dialect == "seed":
        return json.dumps({"totalCount": len(items), "launches": items}).encode()
    shaped = []
    for item in items:
        state = item["state"]
        start = dt.datetime.fromtimestamp(item["start_date"], dt.timezone.utc)
        shaped.append(
            {
                "id": str(item["launch_id"]),
                "wrkflow_uuid": item["wrkflow_uuid"],
                "name": item["name"],
                "start_date": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "state": {
                    "status": str(state["status"]).upper(),
                    "time_elapsed_sec": state["time_elapsed"],
                    "num_task_completed": state["num_task_completed"],
                    "num_errors": state["num_errors"],
                },
            }
        )
    payload = {"launches": shaped, "total_count": len(shaped), "page": 0, "page_size": 50}
    return json.dumps(payload).encode()


@pytest.fixture(params=["seed", "openapi"])
def sim(request: pytest.FixtureRequest, wrk_simulator_factory: SimulatorFactory) -> WrkSimulator:
    return wrk_simulator_factory(dialect=request.param, manual_clock=True, action_delay=0)


# (a) Each trigger hears only about its own launch.


def test_a_only_the_completed_launchs_trigger_succeeds(
    sim: WrkSimulator, use_connection: UseConnection
) -> None:
    wrkflow = sim.add_wrkflow()
    first = sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0, duration=3600)
    second = sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0, duration=3600)
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool]:
        one = asyncio.create_task(run_trigger(make_trigger(first, INTERVAL, wrkflow_uuid=wrkflow)))
        two = asyncio.create_task(run_trigger(make_trigger(second, INTERVAL, wrkflow_uuid=wrkflow)))
        await wait_until(lambda: len(list_reads(sim.requests, wrkflow)) >= 2)
        sim.complete(first)
        first_events = await asyncio.wait_for(one, 10)
        seen = len(sim.requests)
        await wait_until(lambda: len(sim.requests) >= seen + 3)
        second_waited = not two.done()
        sim.complete(second)
        return first_events, await asyncio.wait_for(two, 10), second_waited

    first_events, second_events, second_waited = asyncio.run(main())

    only_success(first_events, first)
    assert second_waited, "the other launch's trigger ended with the first"
    only_success(second_events, second)
    # While both waited, both were learned from listings of their wrkflow.
    assert single_reads_of(sim.requests, first) == []


@pytest.mark.parametrize("omission", ["listing-omits-it", "hint-names-another-wrkflow"])
def test_a_launch_missing_from_a_listing_is_read_on_its_own(
    sim: WrkSimulator, use_connection: UseConnection, omission: str
) -> None:
    wrkflow = sim.add_wrkflow()
    elsewhere = sim.add_wrkflow()
    waiting = sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0, duration=3600)
    missing = sim.add_launch(
        wrkflow_uuid=wrkflow if omission == "listing-omits-it" else elsewhere,
        start_date=T0 + 1,
        status="completed",
    )
    if omission == "listing-omits-it":
        sim.inject("GET /launch", Fault.body(listing_body(sim, waiting)))
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
        stays = asyncio.create_task(
            run_trigger(make_trigger(waiting, INTERVAL, wrkflow_uuid=wrkflow))
        )
        # The hint says ``wrkflow`` for both launches; it steers requests, never a verdict.
        gone = await asyncio.wait_for(
            run_trigger(make_trigger(missing, INTERVAL, wrkflow_uuid=wrkflow)), 10
        )
        reads_before = len(single_reads_of(sim.requests, missing))
        sim.complete(waiting)
        return gone, await asyncio.wait_for(stays, 10), reads_before

    missing_events, waiting_events, reads_before = asyncio.run(main())

    only_success(missing_events, missing)
    only_success(waiting_events, waiting)
    requests = sim.requests
    assert requests[0].path == "/launch" and requests[0].query.get("wrkflow_uuid") == wrkflow
    assert reads_before == 1, "the launch was read on its own exactly once before the verdict"
    # The second request is that read: the one launch, by id, in the dialect's own way.
    read = requests[1]
    assert single_reads_of([read], missing) == [read.time]
    assert read.path == (f"/launch/{missing}" if sim.dialect == "openapi" else "/launch")


# (b) No launch is polled more often than its trigger asked.


def poll_times(requests: list[RecordedRequest], launch_id: int, wrkflow_uuid: str | None) -> list:
    """When the API was asked about the launch: its own reads, and each listing of its wrkflow
    (counted once per round)."""
    times = single_reads_of(requests, launch_id)
    if wrkflow_uuid is not None:
        times += [r[0] for r in rounds_of(list_reads(requests, wrkflow_uuid), gap=0.1)]
    return sorted(times)


def test_b_no_launch_is_polled_more_often_than_asked(
    wrk_simulator_factory: SimulatorFactory, use_connection: UseConnection
) -> None:
    sim = wrk_simulator_factory(dialect="seed")  # the real clock: launches complete on their own
    listed = sim.add_wrkflow()
    alone = sim.add_wrkflow()
    plan: dict[int, tuple[float, str | None]] = {}  # launch: (poll interval, wrkflow hint)
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> list[list[dict[str, Any]]]:
        # Start mid-way between two points of the 1 s grid, as a real wait usually does.
        while not 0.35 <= time.time() % 1.0 <= 0.5:
            await asyncio.sleep(0.01)
        for wrkflow, interval, hint in (
            (listed, 1.0, listed),
            (listed, 1.0, listed),
            (alone, 0.7, None),
        ):
            plan[sim.add_launch(wrkflow_uuid=wrkflow, duration=4.5)] = (interval, hint)
        triggers = [
            make_trigger(launch_id, interval, wrkflow_uuid=hint)
            for launch_id, (interval, hint) in plan.items()
        ]
        return list(await asyncio.gather(*(run_trigger(t) for t in triggers)))

    events = asyncio.run(main())

    for launch_id, found in zip(plan, events, strict=True):
        only_success(found, launch_id)
    requests = sim.requests
    for launch_id, (interval, hint) in plan.items():
        times = poll_times(requests, launch_id, listed if hint else None)
        assert len(times) >= 4, times
        gaps = [round(b - a, 3) for a, b in zip(times, times[1:], strict=False)]
        assert min(gaps) >= interval - 0.05, f"launch {launch_id} every {interval} s: {gaps}"


# (c) One trigger's cancellation or failure does not disturb the others.


def test_c_cancellation_and_failure_leave_the_others_alone(
    sim: WrkSimulator, use_connection: UseConnection
) -> None:
    wrkflow = sim.add_wrkflow()
    cancelled, failing, listed = (
        sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0 + n, duration=3600) for n in range(3)
    )
    alone = sim.add_launch(wrkflow_uuid=sim.add_wrkflow(), start_date=T0, duration=3600)
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> tuple[dict[int, Any], bool]:
        tasks = {
            launch_id: asyncio.create_task(
                run_trigger(make_trigger(launch_id, INTERVAL, wrkflow_uuid=hint))
            )
            for launch_id, hint in (
                (cancelled, wrkflow),
                (failing, wrkflow),
                (listed, wrkflow),
                (alone, None),
            )
        }
        await wait_until(lambda: reads_of(sim, alone) >= 2)
        tasks[cancelled].cancel()
        sim.remove_launch(failing)
        failed = await asyncio.wait_for(asyncio.shield(tasks[failing]), 10)
        still_waiting = not tasks[listed].done() and not tasks[alone].done()
        seen = len(sim.requests)
        await wait_until(lambda: len(sim.requests) >= seen + 2)
        sim.complete(listed)
        sim.complete(alone)
        outcomes: dict[int, Any] = {failing: failed}
        for launch_id in (listed, alone):
            outcomes[launch_id] = await asyncio.wait_for(tasks[launch_id], 10)
        with contextlib.suppress(asyncio.CancelledError):
            await tasks[cancelled]
        assert tasks[cancelled].cancelled()
        assert all(s.launch_id != str(cancelled) for s in poller_of()._subscriptions)
        return outcomes, still_waiting

    outcomes, still_waiting = asyncio.run(main())

    assert still_waiting
    assert len(outcomes[failing]) == 1
    failure = outcomes[failing][0]
    assert failure["status"] == "failed" and failure["launch_id"] == str(failing)
    assert str(failing) in failure["message"] and "not found" in failure["message"]
    only_success(outcomes[listed], listed)
    only_success(outcomes[alone], alone)


def test_c_one_launchs_unreadable_answer_leaves_the_others_alone(
    wrk_simulator_factory: SimulatorFactory, use_connection: UseConnection
) -> None:
    sim = wrk_simulator_factory(dialect="openapi", manual_clock=True)
    broken = sim.add_launch(wrkflow_uuid=sim.add_wrkflow(), start_date=T0, duration=3600)
    healthy = sim.add_launch(wrkflow_uuid=sim.add_wrkflow(), start_date=T0, duration=3600)
    # After the first look, each launch is read on its own: that read of one of them fails.
    sim.inject(f"GET /launch/{broken}", Fault.body(b"[" * 50_000 + b"]" * 50_000, times=0))
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> list[Any]:
        tasks = [
            asyncio.create_task(run_trigger(make_trigger(i, INTERVAL, max_consecutive_failures=2)))
            for i in (broken, healthy)
        ]
        await wait_until(lambda: sim.count("GET", f"/launch/{broken}") >= 1)
        sim.complete(healthy)
        return list(await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 15))

    broken_events, healthy_events = asyncio.run(main())

    assert isinstance(healthy_events, list), repr(healthy_events)
    only_success(healthy_events, healthy)
    assert isinstance(broken_events, list), repr(broken_events)
    assert [event["status"] for event in broken_events] == ["error"]
    assert "not JSON" in broken_events[0]["message"]


# (d) The poller stops when nothing waits.


def test_d_the_poller_stops_and_closes_when_nothing_waits(
    sim: WrkSimulator, use_connection: UseConnection
) -> None:
    launches = [sim.add_launch(start_date=T0, duration=3600) for _ in range(2)]
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> tuple[LaunchPoller, Any, list[list[dict[str, Any]]], bool]:
        tasks = [asyncio.create_task(run_trigger(make_trigger(i, INTERVAL))) for i in launches]
        await wait_until(lambda: len(sim.requests) >= 4)
        poller = poller_of()
        client = poller._client
        assert client is not None and not client.is_closed
        for launch_id in launches:
            sim.complete(launch_id)
        events = list(await asyncio.wait_for(asyncio.gather(*tasks), 10))
        assert poller._task is not None
        await asyncio.wait_for(asyncio.shield(poller._task), 5)
        fresh = LaunchPoller.for_connection("wrk_default", poller._client_factory)
        LaunchPoller._registry.pop(("wrk_default", id(asyncio.get_running_loop())))
        return poller, client, events, fresh is not poller

    poller, client, events, replaced = asyncio.run(main())
    stopped_at = len(sim.requests)
    time.sleep(3 * INTERVAL)

    for launch_id, found in zip(launches, events, strict=True):
        only_success(found, launch_id)
    assert poller._task is not None and poller._task.done() and not poller._task.cancelled()
    assert poller._client is None and client.is_closed
    assert not poller._subscriptions
    assert replaced, "a closed poller was handed out again"
    assert len(sim.requests) == stopped_at


def test_d_the_poller_forgets_launches_nobody_waits_for(
    sim: WrkSimulator, use_connection: UseConnection
) -> None:
    keeper = sim.add_launch(start_date=T0, duration=3600)  # its wait keeps the poller running
    finished = [sim.add_launch(start_date=T0 + n, duration=3600) for n in range(1, 4)]
    use_connection(sim, **QUICK_EXTRAS)

    async def main() -> set[str]:
        kept = asyncio.create_task(run_trigger(make_trigger(keeper, INTERVAL)))
        tasks = [asyncio.create_task(run_trigger(make_trigger(i, INTERVAL))) for i in finished]
        await wait_until(lambda: len(sim.requests) >= 2)
        for launch_id in finished:
            sim.complete(launch_id)
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
        remembered = set(poller_of()._known)
        sim.complete(keeper)
        await asyncio.wait_for(kept, 10)
        return remembered

    remembered = asyncio.run(main())

    assert remembered <= {str(keeper)}, f"still remembered: {sorted(remembered)}"


# (e) Several triggerers, and restarts: the kwargs alone are enough.


def test_e_a_rebuilt_trigger_reaches_the_verdict_in_other_loops(
    sim: WrkSimulator, use_connection: UseConnection
) -> None:
    wrkflow = sim.add_wrkflow()
    launch_id = sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0, duration=3600)
    use_connection(sim, **QUICK_EXTRAS)
    classpath, kwargs = make_trigger(launch_id, INTERVAL, wrkflow_uuid=wrkflow).serialize()
    stored = json.loads(json.dumps(kwargs))  # what the metadata database keeps

    async def first_triggerer() -> None:
        task = asyncio.create_task(run_trigger(import_string(classpath)(**stored)))
        await wait_until(lambda: reads_of(sim, launch_id, wrkflow) >= 2)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    asyncio.run(first_triggerer())
    before = reads_of(sim, launch_id, wrkflow)

    def next_triggerer() -> list[dict[str, Any]]:
        return asyncio.run(run_trigger(import_string(classpath)(**stored)))

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [pool.submit(next_triggerer) for _ in range(2)]
        deadline = time.monotonic() + 15
        while reads_of(sim, launch_id, wrkflow) < before + 4 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert not any(run.done() for run in runs), "a trigger ended before the launch did"
        sim.complete(launch_id)
        results = [run.result(timeout=15) for run in runs]

    for events in results:
        only_success(events, launch_id)


# (f) One request budget per connection, shared by every trigger in the process.


def test_f_the_connections_budget_bounds_the_request_rate(
    wrk_simulator_factory: SimulatorFactory, use_connection: UseConnection
) -> None:
    sim = wrk_simulator_factory(manual_clock=True)
    rate = 5
    launches = [sim.add_launch(wrkflow_uuid=sim.add_wrkflow(), duration=3600) for _ in range(12)]
    use_connection(sim, **QUICK_EXTRAS, max_requests_per_second=rate)

    async def main() -> list[list[dict[str, Any]]]:
        triggers = [
            make_trigger(i, 0.5, wrkflow_uuid=sim.launch(i)["wrkflow_uuid"]) for i in launches
        ]
        tasks = [asyncio.create_task(run_trigger(t)) for t in triggers]
        await asyncio.sleep(4)
        for launch_id in launches:
            sim.complete(launch_id)
        return list(await asyncio.wait_for(asyncio.gather(*tasks), 30))

    events = asyncio.run(main())

    for launch_id, found in zip(launches, events, strict=True):
        only_success(found, launch_id)
    times = sorted(r.time for r in sim.requests)
    assert len(times) >= 3 * rate, "the budget was never the limit"
    worst = max(
        (j - i + 1) - (rate + rate * (times[j] - times[i]))
        for i in range(len(times))
        for j in range(i, len(times))
    )
    # A bucket of ``rate`` tokens refilled at ``rate`` a second; two more for arrival jitter
    # (a request is counted when it arrives, its token was taken when it left).
    assert worst <= 2, f"{worst:.2f} requests over the budget"


def wait_then_complete(
    sim: WrkSimulator, launches: list[int], interval: float, wrkflow_uuid: str
) -> list[list[dict[str, Any]]]:
    """Wait for every launch with a trigger of its own, complete them all after 3 s, and return
    each trigger's events."""

    async def main() -> list[list[dict[str, Any]]]:
        tasks = [
            asyncio.create_task(run_trigger(make_trigger(i, interval, wrkflow_uuid=wrkflow_uuid)))
            for i in launches
        ]
        await asyncio.sleep(3)
        for launch_id in launches:
            sim.complete(launch_id)
        return list(await asyncio.wait_for(asyncio.gather(*tasks), 30))

    return asyncio.run(main())


# (g) The fewest requests.


@pytest.mark.parametrize("dialect", ["seed", "openapi"])
def test_g_one_listing_per_round_for_many_waits_in_one_wrkflow(
    dialect: str, wrk_simulator_factory: SimulatorFactory, use_connection: UseConnection
) -> None:
    sim = wrk_simulator_factory(dialect=dialect, manual_clock=True)
    wrkflow = sim.add_wrkflow()
    count = 100
    launches = [
        sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0 + n, duration=3600) for n in range(count)
    ]
    use_connection(sim, **QUICK_EXTRAS)

    events = wait_then_complete(sim, launches, 0.5, wrkflow)

    for launch_id, found in zip(launches, events, strict=True):
        only_success(found, launch_id)
    requests = sim.requests
    per_round = 1 if dialect == "seed" else math.ceil(count / 50)  # the server's page size
    rounds = rounds_of([r.time for r in requests], gap=0.2)
    assert len(rounds) >= 5
    sizes = [len(found) for found in rounds]
    assert all(size == per_round for size in sizes[1:]), sizes
    # Waits that subscribed after the first round began have a round of their own, at once.
    assert sizes[0] <= 2 * per_round + 1, sizes
    singles = [t for i in launches for t in single_reads_of(requests, i)]
    assert all(t <= rounds[0][-1] for t in singles), "a launch was read on its own after round 1"


def test_g_a_long_history_is_read_launch_by_launch_once_the_cost_is_known(
    wrk_simulator_factory: SimulatorFactory, use_connection: UseConnection
) -> None:
    sim = wrk_simulator_factory(dialect="openapi", manual_clock=True)
    wrkflow = sim.add_wrkflow()
    waited = [
        sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0 + n, duration=36000) for n in range(3)
    ]
    for n in range(2000):  # newer launches, all completed: a listing must page past them
        sim.add_launch(wrkflow_uuid=wrkflow, start_date=T0 + 10 + n, status="completed")
    use_connection(sim, **QUICK_EXTRAS)

    events = wait_then_complete(sim, waited, 0.5, wrkflow)

    for launch_id, found in zip(waited, events, strict=True):
        only_success(found, launch_id)
    requests = sim.requests
    rounds = len(rounds_of([r.time for r in requests], gap=0.2))
    listing_every_round = rounds * math.ceil(2003 / 50)
    assert rounds >= 5
    assert len(list_reads(requests)) <= 1, "listed again after learning the cost"
    assert len(requests) <= 1 + len(waited) * rounds
    assert len(requests) < listing_every_round / 10


def test_g_a_failed_listing_is_not_taken_for_its_cost(
    wrk_simulator_factory: SimulatorFactory, use_connection: UseConnection
) -> None:
    sim = wrk_simulator_factory(manual_clock=True)
    wrkflow = sim.add_wrkflow()
    launches = [sim.add_launch(wrkflow_uuid=wrkflow, duration=3600) for _ in range(10)]
    sim.inject("GET /launch", Fault.error(503, times=2))  # both tries of the first listing
    use_connection(sim, **QUICK_EXTRAS)

    events = wait_then_complete(sim, launches, 0.5, wrkflow)

    for launch_id, found in zip(launches, events, strict=True):
        only_success(found, launch_id)
    requests = sim.requests
    singles = sum(len(single_reads_of(requests, i)) for i in launches)
    # The failed round falls back to single reads; the rounds after it list again.
    assert singles <= len(launches), f"{singles} single reads over {len(requests)} requests"
