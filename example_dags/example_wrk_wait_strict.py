"""Wait for a Wrk launch, but fail early: on its third error, or as soon as someone pauses it.

The sensor runs in reschedule mode, so the worker slot is free between looks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.compat.sdk import DAG, Param

from wrk_provider.sensors.wrk import WrkLaunchSensor

with DAG(
    dag_id="example_wrk_wait_strict",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    params={"launch_id": Param(1001, type=["integer", "string"], description="Launch to watch")},
    tags=["example", "wrk"],
) as dag:
    WrkLaunchSensor(
        task_id="wait_without_errors",
        launch_id="{{ params.launch_id }}",
        max_errors=2,
        fail_on_paused=True,
        mode="reschedule",
        poke_interval=5,
        timeout=timedelta(hours=1).total_seconds(),
    )
