"""Each hour, pause every launch of a wrkflow that started in the hour and is still running,
then resume them all: one mapped task per launch.

The start-date filters include both ends, so the upper one stops a microsecond short of the
interval's end: a launch started on the hour belongs to the next run alone.
"""

from __future__ import annotations

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG, Param
from airflow.timetables.interval import CronDataIntervalTimetable

from wrk_provider.operators.wrk import (
    WrkListLaunchesOperator,
    WrkPauseLaunchOperator,
    WrkResumeLaunchOperator,
)

with DAG(
    dag_id="example_wrk_pause_running",
    schedule=CronDataIntervalTimetable("@hourly", timezone="UTC"),
    start_date=datetime(2024, 1, 1),
    catchup=False,
    params={"wrkflow_uuid": Param("d3cb5c8d-de4b-4a72-84b3-e529c444d842", type="string")},
    tags=["example", "wrk"],
) as dag:
    running = WrkListLaunchesOperator(
        task_id="list_running",
        wrkflow_uuid="{{ params.wrkflow_uuid }}",
        status_code="running",
        lower_start_date="{{ data_interval_start }}",
        upper_start_date="{{ data_interval_end.subtract(microseconds=1) }}",
    )
    paused = WrkPauseLaunchOperator.partial(task_id="pause").expand(launch_id=running.output)
    resumed = WrkResumeLaunchOperator.partial(task_id="resume").expand(launch_id=running.output)

    paused >> resumed
