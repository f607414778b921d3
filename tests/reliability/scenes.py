"""What the simulator holds, and when it changes, for a run of each example DAG.

A scene fills a simulator, sets cues on it, and returns the options of the ``airflow dags
test`` run: the DAG's conf, or its logical date.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from wrk_provider.testing import WrkSimulator

from .support import Cues, answered, is_async, reads_of

Scene = Callable[[WrkSimulator, Cues], dict[str, Any]]

#: The wrkflow ``example_wrk_pause_running`` looks at by default.
WRKFLOW = "d3cb5c8d-de4b-4a72-84b3-e529c444d842"
OTHER_WRKFLOW = "7f1c9a52-0d1e-4c3b-9a8e-2b6d5c4f3e21"
#: The logical date given to ``airflow dags test`` for the hourly DAG: its data interval is the
#: hour that ends here.
RUN_AT = datetime(2024, 6, 1, 10, 0, tzinfo=timezone.utc)
#: The launches ``pause_running`` adds: three to act on, then five to leave alone.
PAUSE_RUNNING_TARGETS = [1001, 1002, 1003]
PAUSE_RUNNING_BYSTANDERS = [1004, 1005, 1006, 1007, 1008]


def pause_resume_wait(sim: WrkSimulator, cues: Cues) -> dict[str, Any]:
    """One running launch, completed once the triggerer has seen it running."""
    launch_id = sim.add_launch(duration=3600)
    cues.when(
        lambda log: any(is_async(request) and answered(request) for request in log),
        lambda: sim.complete(launch_id),
    )
    return {"conf": {"launch_id": launch_id}}


def pause_running(sim: WrkSimulator, cues: Cues) -> dict[str, Any]:
    """Three running launches started in the hour before the run (its first and last seconds
    included), and five that are not to be touched: paused, completed, started on the hour's end
    (the next run's) or just before its start, or of another wrkflow."""
    end = int(RUN_AT.timestamp())
    start, middle = end - 3600, end - 1800
    for started in (start, middle, end - 1):
        sim.add_launch(wrkflow_uuid=WRKFLOW, start_date=started, duration=3600)
    sim.add_launch(wrkflow_uuid=WRKFLOW, start_date=middle, status="paused")
    sim.add_launch(wrkflow_uuid=WRKFLOW, start_date=middle, status="completed")
    sim.add_launch(wrkflow_uuid=WRKFLOW, start_date=end, duration=3600)
    sim.add_launch(wrkflow_uuid=WRKFLOW, start_date=start - 1, duration=3600)
    sim.add_launch(wrkflow_uuid=OTHER_WRKFLOW, start_date=middle, duration=3600)
    return {"logical_date": RUN_AT}


def wait_strict(sim: WrkSimulator, cues: Cues) -> dict[str, Any]:
    """One running launch: the first look sees it running, the look after the reschedule
    sees it completed."""
    launch_id = sim.add_launch(duration=3600)
    cues.when(
        lambda log: any(answered(request) for request in reads_of(log, launch_id)),
        lambda: sim.complete(launch_id),
    )
    return {"conf": {"launch_id": launch_id}}
