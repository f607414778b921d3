"""Running DAGs with ``airflow dags test`` in a subprocess, and reading what they left behind.

A run gets the simulators' connections through ``AIRFLOW_CONN_*`` variables and the metadata DB
that ``tests/conftest.py`` set up; its results are read straight from that SQLite file, and its
task logs from the command's output, cut into one piece per task.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from packaging.version import Version

from wrk_provider.testing import RecordedRequest, WrkSimulator

try:  # the function the triggerer itself loads trigger classes with
    from airflow._shared.module_loading import import_string
except ImportError:  # Airflow 2
    from airflow.utils.module_loading import import_string

AIRFLOW_3 = Version(AIRFLOW_VERSION).major >= 3

#: The logical date of every ad-hoc run, so that templated dates are known in advance.
LOGICAL_DATE = datetime(2024, 6, 1, 12, 0, tzinfo=timezone.utc)

__all__ = [
    "AIRFLOW_3",
    "LOGICAL_DATE",
    "DagRunResult",
    "Stagehand",
    "actions_on",
    "connection_json",
    "import_string",
    "reads_of",
    "run_dag",
    "write_spec_dag",
]

SPEC_DAG_SOURCE = '''\
"""A DAG built from the JSON file beside it: one independent task per entry."""

import json
from datetime import datetime
from pathlib import Path

from airflow.providers.common.compat.sdk import DAG

from wrk_provider.operators.wrk import (
    WrkListLaunchesOperator,
    WrkPauseLaunchOperator,
    WrkResumeLaunchOperator,
)
from wrk_provider.sensors.wrk import WrkLaunchSensor

KINDS = {
    "pause": WrkPauseLaunchOperator,
    "resume": WrkResumeLaunchOperator,
    "list": WrkListLaunchesOperator,
    "sensor": WrkLaunchSensor,
}
SPEC = json.loads(Path(__file__).with_suffix(".json").read_text())

with DAG(
    dag_id=SPEC["dag_id"],
    schedule=None,
    start_date=datetime(2024, 1, 1),
    catchup=False,
) as dag:
    for task in SPEC["tasks"]:
        KINDS[task["kind"]](task_id=task["task_id"], **task["kwargs"])
'''


def write_spec_dag(folder: Path, dag_id: str, tasks: Iterable[dict[str, Any]]) -> Path:
    """Write a DAG file and its JSON spec into ``folder``; each task is ``{task_id, kind,
    kwargs}`` with ``kind`` one of pause, resume, list, sensor."""
    folder.mkdir(parents=True, exist_ok=True)
    spec = {"dag_id": dag_id, "tasks": list(tasks)}
    (folder / f"{dag_id}.json").write_text(json.dumps(spec, indent=1))
    path = folder / f"{dag_id}.py"
    path.write_text(SPEC_DAG_SOURCE)
    return path


def connection_json(sim: WrkSimulator, **extra: Any) -> str:
    """A connection to ``sim`` in Airflow's JSON form, with short retry waits by default."""
    extra = {"retry_wait": 0.01, "retry_max_wait": 0.05, **extra}
    return json.dumps(
        {"conn_type": "wrk", "host": sim.url, "password": sim.api_key, "extra": extra}
    )


# What a simulator saw.


def _is_read_of(request: RecordedRequest, launch_id: int | str) -> bool:
    if request.method != "GET":
        return False
    if request.path == f"/launch/{launch_id}":
        return True
    return request.path == "/launch" and request.query.get("launch_id") == str(launch_id)


def reads_of(sim: WrkSimulator, launch_id: int | str) -> list[RecordedRequest]:
    """The requests that looked one launch up, by the list filter or by its own path."""
    return [request for request in sim.requests if _is_read_of(request, launch_id)]


def actions_on(sim: WrkSimulator, launch_id: int | str, action: str | None = None) -> list[str]:
    """The pause and resume requests sent for one launch, oldest first, as action names."""
    found = []
    for request in sim.requests:
        parts = request.path.strip("/").split("/")
        if (
            request.method == "POST"
            and len(parts) == 3
            and parts[:2] == ["launch", str(launch_id)]
            and (action is None or parts[2] == action)
        ):
            found.append(parts[2])
    return found


@dataclass
class _Cue:
    sim: WrkSimulator
    launch_id: int
    reads: int
    action: Callable[[], None]
    done: bool = False


class Stagehand:
    """Changes launches on cue, from a background thread: once a launch has been read ``reads``
    times, its action runs. A wait can then see the launch running first and done later, with
    no clock to race."""

    def __init__(self) -> None:
        self._cues: list[_Cue] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="stagehand", daemon=True)

    def after_reads(
        self, sim: WrkSimulator, launch_id: int, reads: int, action: Callable[[], None]
    ) -> None:
        self._cues.append(_Cue(sim, launch_id, reads, action))

    def __enter__(self) -> Stagehand:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def pending(self) -> list[int]:
        return [cue.launch_id for cue in self._cues if not cue.done]

    def _watch(self) -> None:
        while not self._stop.wait(0.02):
            for cue in self._cues:
                if not cue.done and len(reads_of(cue.sim, cue.launch_id)) >= cue.reads:
                    cue.action()
                    cue.done = True


# Running a DAG and reading its results.


def _db_path() -> Path:
    url = os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert url.startswith("sqlite:///"), url
    return Path(url[len("sqlite:///") :])


def _decode(value: Any) -> Any:
    """An XCom value as stored: JSON text on Airflow 3, JSON bytes on Airflow 2."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode()
    return json.loads(value)


def _when(text: str | None) -> datetime | None:
    if text is None:
        return None
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


@dataclass
class DagRunResult:
    """What one ``airflow dags test`` run left: its output and its rows in the metadata DB."""

    dag_id: str
    run_id: str
    state: str
    returncode: int
    output: str
    seconds: float
    data_interval: tuple[datetime | None, datetime | None]
    _logs: dict[str, list[str]] = field(default_factory=dict, repr=False)

    def _query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(_db_path()) as db:
            return db.execute(sql, args).fetchall()

    def states(self) -> dict[tuple[str, int], str | None]:
        rows = self._query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
            self.dag_id,
            self.run_id,
        )
        return {(task_id, map_index): state for task_id, map_index, state in rows}

    def task_state(self, task_id: str, map_index: int = -1) -> str | None:
        return self.states()[(task_id, map_index)]

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        rows = self._query(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? "
            "AND key = ? AND map_index = ?",
            self.dag_id,
            self.run_id,
            task_id,
            key,
            map_index,
        )
        assert rows, f"no XCom {key!r} for {task_id}[{map_index}] in {self.run_id}"
        return _decode(rows[0][0])

    def xcom_keys(self, task_id: str) -> set[str]:
        rows = self._query(
            "SELECT key FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ?",
            self.dag_id,
            self.run_id,
            task_id,
        )
        return {key for (key,) in rows}

    def rendered(self, task_id: str) -> dict[str, Any]:
        rows = self._query(
            "SELECT rendered_fields FROM rendered_task_instance_fields "
            "WHERE dag_id = ? AND run_id = ? AND task_id = ?",
            self.dag_id,
            self.run_id,
            task_id,
        )
        assert rows, f"no rendered fields for {task_id} in {self.run_id}"
        return dict(json.loads(rows[0][0]))

    def reschedules(self, task_id: str) -> int:
        columns = {row[1] for row in self._query("PRAGMA table_info(task_reschedule)")}
        if "ti_id" in columns:  # Airflow 3 keys reschedules by task instance id
            sql = (
                "SELECT count(*) FROM task_reschedule r JOIN task_instance ti ON r.ti_id = ti.id "
                "WHERE ti.dag_id = ? AND ti.run_id = ? AND ti.task_id = ?"
            )
        else:
            sql = (
                "SELECT count(*) FROM task_reschedule "
                "WHERE dag_id = ? AND run_id = ? AND task_id = ?"
            )
        return int(self._query(sql, self.dag_id, self.run_id, task_id)[0][0])

    def trigger_kwargs(self, task_id: str) -> list[str]:
        """The stored kwargs of the task's trigger; ``dags test`` keeps the row on Airflow 3
        only, so on Airflow 2 this is always empty."""
        rows = self._query(
            "SELECT t.kwargs FROM trigger t JOIN task_instance ti ON ti.trigger_id = t.id "
            "WHERE ti.dag_id = ? AND ti.run_id = ? AND ti.task_id = ?",
            self.dag_id,
            self.run_id,
            task_id,
        )
        return [kwargs for (kwargs,) in rows]

    def all_trigger_kwargs(self) -> list[str]:
        """The stored kwargs of every trigger row in the metadata DB."""
        return [kwargs for (kwargs,) in self._query("SELECT kwargs FROM trigger")]

    def log(self, task_id: str) -> str:
        """Every line the task printed, over all its tries and its deferral."""
        return "\n".join(self._logs.get(task_id, []))


def _split_logs(dag_id: str, output: str) -> dict[str, list[str]]:
    """Cut the output at the ``[DAG TEST]`` markers that open and close each task's run."""
    start = f"[DAG TEST] running task <TaskInstance: {dag_id}."
    logs: dict[str, list[str]] = {}
    current: str | None = None
    for line in output.splitlines():
        if start in line:
            current = line.split(start, 1)[1].split(" ", 1)[0]
        if current is not None:
            logs.setdefault(current, []).append(line)
            if f"[DAG TEST] end task task_id={current} " in line:
                current = None
    return logs


def _last_run_row_id(dag_id: str) -> int:
    with sqlite3.connect(_db_path()) as db:
        row = db.execute("SELECT max(id) FROM dag_run WHERE dag_id = ?", (dag_id,)).fetchone()
    return int(row[0] or 0)


def run_dag(
    dag_id: str,
    *,
    dags_folder: Path,
    connections: dict[str, str],
    conf: dict[str, Any] | None = None,
    logical_date: datetime | None = None,
    timeout: float = 100.0,
) -> DagRunResult:
    """Run a DAG to its end with ``airflow dags test`` and return what it left behind."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("AIRFLOW_CONN_") and name != "AIRFLOW__CORE__UNIT_TEST_MODE"
    }
    env.update({f"AIRFLOW_CONN_{conn_id.upper()}": uri for conn_id, uri in connections.items()})
    env["AIRFLOW__CORE__DAGS_FOLDER"] = str(dags_folder)
    env["PYTHONUNBUFFERED"] = "1"
    command = [sys.executable, "-m", "airflow", "dags", "test", dag_id]
    if logical_date is not None:
        command.append(logical_date.isoformat())
    if conf is not None:
        command += ["-c", json.dumps(conf)]

    before = _last_run_row_id(dag_id)
    began = time.monotonic()
    done = subprocess.run(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=timeout,
        check=False,
    )
    seconds = time.monotonic() - began

    with sqlite3.connect(_db_path()) as db:
        row = db.execute(
            "SELECT run_id, state, data_interval_start, data_interval_end FROM dag_run "
            "WHERE dag_id = ? AND id > ? ORDER BY id DESC LIMIT 1",
            (dag_id, before),
        ).fetchone()
    assert row is not None, f"airflow dags test made no run of {dag_id}:\n{done.stdout[-5000:]}"
    run_id, state, start, end = row
    return DagRunResult(
        dag_id=dag_id,
        run_id=run_id,
        state=state,
        returncode=done.returncode,
        output=done.stdout,
        seconds=seconds,
        data_interval=(_when(start), _when(end)),
        _logs=_split_logs(dag_id, done.stdout),
    )
