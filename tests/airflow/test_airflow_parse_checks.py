"""A launch id that can never be valid fails the DAG file as Airflow parses it; a template or
another task's output is left for the task to check when it runs."""

from __future__ import annotations

import textwrap
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from airflow.providers.common.compat.sdk import DAG

from wrk_provider.exceptions import WrkInvalidInputError
from wrk_provider.operators.wrk import (
    WrkListLaunchesOperator,
    WrkPauseLaunchOperator,
    WrkResumeLaunchOperator,
)
from wrk_provider.sensors.wrk import WrkLaunchSensor

try:
    from airflow.dag_processing.dagbag import DagBag
except ImportError:  # Airflow 2
    from airflow.models.dagbag import DagBag  # type: ignore[no-redef,attr-defined]

pytestmark = pytest.mark.integration

TASKS: dict[str, Any] = {
    "pause": WrkPauseLaunchOperator,
    "resume": WrkResumeLaunchOperator,
    "sensor": WrkLaunchSensor,
}
NEVER_VALID = [None, "", "  ", "1/../2", "1?x=1", -1, 1.5, True, "x" * 200]


@pytest.mark.parametrize("kind", sorted(TASKS))
@pytest.mark.parametrize("launch_id", NEVER_VALID, ids=repr)
def test_a_literal_that_is_never_a_launch_id_is_refused_at_once(kind: str, launch_id: Any) -> None:
    with pytest.raises(WrkInvalidInputError) as raised:
        TASKS[kind](task_id="t", launch_id=launch_id)

    message = str(raised.value)
    assert message.startswith("launch_id="), message
    assert "\n" not in message
    assert "e.g. 1223321" in message


@pytest.mark.parametrize("launch_id", NEVER_VALID[1:], ids=repr)
def test_the_list_filter_is_refused_at_once_too(launch_id: Any) -> None:
    with pytest.raises(WrkInvalidInputError, match="launch_id="):
        WrkListLaunchesOperator(task_id="t", launch_id=launch_id)


@pytest.mark.parametrize("kind", sorted(TASKS))
@pytest.mark.parametrize(
    "launch_id",
    [1223321, "1223321", "abc-123", "{{ params.launch_id }}", "{% if true %}7{% endif %}"],
    ids=repr,
)
def test_plain_ids_and_templates_are_accepted(kind: str, launch_id: Any) -> None:
    task = TASKS[kind](task_id="t", launch_id=launch_id)

    assert task.launch_id == launch_id


def test_another_tasks_output_is_left_for_run_time() -> None:
    with DAG("wrk_output_as_launch_id", schedule=None, start_date=datetime(2024, 1, 1)):
        listed = WrkListLaunchesOperator(task_id="list", status_code="running")
        task = WrkPauseLaunchOperator(task_id="pause", launch_id=listed.output)

    assert task.launch_id == listed.output


def test_airflow_reports_the_mistake_as_the_dag_files_import_error(tmp_path: Path) -> None:
    dag_file = tmp_path / "wrk_bad_launch_id.py"
    dag_file.write_text(
        textwrap.dedent(
            """
            from datetime import datetime

            from airflow.providers.common.compat.sdk import DAG

            from wrk_provider.sensors.wrk import WrkLaunchSensor

            with DAG("wrk_bad_launch_id", schedule=None, start_date=datetime(2024, 1, 1)):
                WrkLaunchSensor(task_id="wait", launch_id="1/../2")
            """
        )
    )

    bag = DagBag(dag_folder=str(tmp_path))

    assert "wrk_bad_launch_id" not in bag.dags
    [error] = [text for path, text in bag.import_errors.items() if path.endswith(dag_file.name)]
    assert "launch_id='1/../2' is not a launch id" in error
