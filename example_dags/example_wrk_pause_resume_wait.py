"""Pause a Wrk launch, resume it, then wait in the triggerer until it completes.

Trigger it with the launch's id: ``airflow dags trigger example_wrk_pause_resume_wait
--conf '{"launch_id": 1223321}'``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.providers.common.compat.sdk import DAG, Param

from wrk_provider.operators.wrk import WrkPauseLaunchOperator, WrkResumeLaunchOperator
from wrk_provider.sensors.wrk import WrkLaunchSensor

with DAG(
    dag_id="example_wrk_pause_resume_wait",
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
    params={"launch_id": Param(1001, type=["integer", "string"], description="Launch to drive")},
    tags=["example", "wrk"],
) as dag:
    pause = WrkPauseLaunchOperator(task_id="pause", launch_id="{{ params.launch_id }}")
    resume = WrkResumeLaunchOperator(task_id="resume", launch_id="{{ params.launch_id }}")
    wait = WrkLaunchSensor(
        task_id="wait_for_completion",
        launch_id="{{ params.launch_id }}",
        deferrable=True,
        poke_interval=5,
        timeout=timedelta(hours=2).total_seconds(),
    )

    pause >> resume >> wait
