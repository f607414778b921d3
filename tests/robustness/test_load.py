"""500 deferrable waits in one event loop, against an API that allows 50 requests a second.

Every wait goes through the real trigger code, as a triggerer runs it. The simulator answers
429 past its limit; the connection's request budget is set below that limit. Each layout prints
its figures: requests, 429s, and the wall time against the ideal (the moment the last launch
completes, counted from the start of the waits).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from wrk_provider.testing import WrkSimulator

from .support import make_trigger, run_trigger

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(240)]

SimulatorFactory = Callable[..., WrkSimulator]
WAITS = 500
API_LIMIT = 50
BUDGET = 40
INTERVAL = 2.0
#: Launch durations, in seconds of the simulator's real-time clock.
SHORTEST, LONGEST = 3, 10


@pytest.mark.parametrize(
    "layout, wrkflows, hinted",
    [
        pytest.param("one-wrkflow", 1, True, id="one-wrkflow"),
        pytest.param("fifty-wrkflows", 50, True, id="fifty-wrkflows"),
        # The worst case: no hint, and a wrkflow per launch, so every look after the first
        # is a single read.
        pytest.param("no-hint", WAITS, False, id="no-hint"),
    ],
)
def test_500_waits_all_succeed_under_a_rate_limit(
    layout: str,
    wrkflows: int,
    hinted: bool,
    wrk_simulator_factory: SimulatorFactory,
    use_connection: Callable[..., None],
    report: Callable[[str, object], None],
) -> None:
    sim = wrk_simulator_factory(rate_limit=API_LIMIT)
    uuids = [sim.add_wrkflow() for _ in range(wrkflows)]
    use_connection(
        sim,
        max_requests_per_second=BUDGET,
        timeout=10,
        connect_timeout=5,
        retry_wait=0.5,
        retry_max_wait=5,
    )

    async def main() -> tuple[list[list[dict[str, Any]]], float, float]:
        started = time.monotonic()
        durations = [SHORTEST + n % (LONGEST - SHORTEST + 1) for n in range(WAITS)]
        launches = [
            (sim.add_launch(wrkflow_uuid=uuids[n % wrkflows], duration=durations[n]), n)
            for n in range(WAITS)
        ]
        ideal = max(durations) + (time.monotonic() - started)
        triggers = [
            make_trigger(
                launch_id,
                INTERVAL,
                timeout=200,
                wrkflow_uuid=uuids[n % wrkflows] if hinted else None,
            )
            for launch_id, n in launches
        ]
        events = await asyncio.gather(*(run_trigger(trigger) for trigger in triggers))
        return list(events), time.monotonic() - started, ideal

    events, wall, ideal = asyncio.run(main())

    requests = sim.requests
    limited = sum(1 for request in requests if request.status == 429)
    outcomes = [
        found[0]["status"] if len(found) == 1 else f"{len(found)} events" for found in events
    ]
    report("waits", WAITS)
    report("requests", len(requests))
    report("answered 429", limited)
    report("wall seconds against the ideal", (round(wall, 1), round(ideal, 1)))
    failures = [found for found in events if len(found) != 1 or found[0]["status"] != "success"]
    assert not failures, f"{len(failures)} waits did not succeed, e.g. {failures[0]}"
    assert outcomes.count("success") == WAITS
    for found in events:
        assert found[0]["launch"]["state"]["status"] == "completed"
    assert limited <= max(5, len(requests) // 100), "the budget did not keep the API's limit"
    # One round at most after the last launch completes, plus the time a round takes.
    round_time = (WAITS if not hinted else wrkflows) / BUDGET
    assert wall <= ideal + INTERVAL + round_time + 15, f"{wall:.1f} s"
    if hinted and wrkflows == 1:
        assert len(requests) <= 3 * (wall / INTERVAL + 2), "more than one listing a round"
