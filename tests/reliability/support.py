"""A throw-away Airflow home per test module, the ``airflow`` commands run in it, and readings of
what a simulator saw."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from airflow import __version__ as AIRFLOW_VERSION
from cryptography.fernet import Fernet
from packaging.version import Version

from wrk_provider.testing import RecordedRequest, WrkSimulator

AIRFLOW_3 = Version(AIRFLOW_VERSION).major >= 3
EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"

PAUSE_RESUME_WAIT = "example_wrk_pause_resume_wait"
PAUSE_RUNNING = "example_wrk_pause_running"
WAIT_STRICT = "example_wrk_wait_strict"

_STAMP = re.compile(r"(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d:\d\d)(?:[.,](\d+))?")
_RUN_STATE = re.compile(r"DagRun Finished: dag_id=([^,]+),.*?\bstate=(\w+)")


def free_port() -> int:
    """A TCP port on loopback that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def connection_json(url: str, api_key: str, **extra: Any) -> str:
    """A Wrk connection in Airflow's JSON form."""
    return json.dumps({"conn_type": "wrk", "host": url, "password": api_key, "extra": extra})


@dataclass
class Finished:
    """A command that ran to its end: exit code, stdout and stderr together, wall time."""

    command: Sequence[str]
    returncode: int
    output: str
    seconds: float


def run_command(
    command: Sequence[str], env: dict[str, str], timeout: float, cwd: Path | None = None
) -> Finished:
    """Run a command in a process group of its own; on timeout kill the group and fail."""
    began = time.monotonic()
    process = subprocess.Popen(
        list(command),
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        kill_group(process)
        output, _ = process.communicate()
        raise AssertionError(
            f"{' '.join(command[:6])} did not finish in {timeout:g} s; its output ends:\n"
            f"{output[-6000:]}"
        ) from None
    return Finished(command, process.returncode, output, time.monotonic() - began)


def kill_group(process: subprocess.Popen[Any], sig: int = signal.SIGKILL) -> None:
    """Send ``sig`` to the process group this test started the process in."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)


def moment(line: str) -> float:
    """The UTC timestamp at the start of an Airflow log line, as epoch seconds."""
    found = _STAMP.search(line)
    assert found is not None, f"no timestamp in {line!r}"
    day, clock, fraction = found.groups()
    stamp = datetime.fromisoformat(f"{day}T{clock}").replace(tzinfo=timezone.utc).timestamp()
    return stamp + (float(f"0.{fraction}") if fraction else 0.0)


@dataclass
class DagTest:
    """One ``airflow dags test`` run: its output and the run it left in the metadata DB."""

    dag_id: str
    returncode: int
    output: str
    seconds: float
    run_id: str | None
    state: str | None

    def lines(self, text: str) -> list[str]:
        return [line for line in self.output.splitlines() if text in line]

    def first(self, text: str) -> float:
        """When the first line holding ``text`` was logged."""
        found = self.lines(text)
        assert found, f"no line with {text!r} in the output of {self.dag_id}:\n{self.tail()}"
        return moment(found[0])

    def first_after(self, marker: str, text: str) -> float:
        """When the first line holding ``text`` after the first line holding ``marker`` was
        logged."""
        lines = self.output.splitlines()
        starts = [index for index, line in enumerate(lines) if marker in line]
        assert starts, f"no line with {marker!r} in the output of {self.dag_id}:\n{self.tail()}"
        for line in lines[starts[0] :]:
            if text in line:
                return moment(line)
        raise AssertionError(f"no line with {text!r} after {marker!r}:\n{self.tail()}")

    def last(self, text: str) -> float:
        found = self.lines(text)
        assert found, f"no line with {text!r} in the output of {self.dag_id}:\n{self.tail()}"
        return moment(found[-1])

    def tail(self, size: int = 6000) -> str:
        return self.output[-size:]

    def task_log(self, task_id: str) -> DagTest:
        """The lines of one task's run, from its start to its end, deferral included."""
        start = f"[DAG TEST] running task <TaskInstance: {self.dag_id}.{task_id} "
        end = f"[DAG TEST] end task task_id={task_id} "
        lines = self.output.splitlines()
        first = next((index for index, line in enumerate(lines) if start in line), None)
        assert first is not None, f"{task_id} did not run in {self.dag_id}:\n{self.tail()}"
        last = next(
            (index for index in range(first, len(lines)) if end in lines[index]), len(lines) - 1
        )
        section = "\n".join(lines[first : last + 1])
        return replace(self, output=section)


class AirflowHome:
    """An ``AIRFLOW_HOME`` with its own SQLite DB and Fernet key, for Airflow subprocesses."""

    def __init__(self, path: Path, dags_folder: Path) -> None:
        self.path = path
        self.dags_folder = dags_folder
        self.db = path / "airflow.db"
        self.fernet_key = Fernet.generate_key().decode()
        path.mkdir(parents=True, exist_ok=True)

    def env(self, **extra: str) -> dict[str, str]:
        """The environment of an Airflow process: nothing Airflow from this process's own."""
        env = {
            name: value
            for name, value in os.environ.items()
            if not name.startswith(("AIRFLOW", "_AIRFLOW"))
        }
        env.update(
            AIRFLOW_HOME=str(self.path),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags_folder),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__FERNET_KEY=self.fernet_key,
            AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=f"sqlite:///{self.db}",
            # Executors start ``airflow`` by name: it must be this environment's.
            PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
            NO_PROXY="127.0.0.1,localhost",
            no_proxy="127.0.0.1,localhost",
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def airflow(self, *args: str, timeout: float = 180.0, **env: str) -> Finished:
        return run_command([sys.executable, "-m", "airflow", *args], self.env(**env), timeout)

    def migrate(self) -> None:
        done = self.airflow("db", "migrate", timeout=300.0)
        assert done.returncode == 0, f"airflow db migrate failed:\n{done.output[-5000:]}"

    def dags_test(
        self,
        dag_id: str,
        *,
        connection: str | None = None,
        conf: dict[str, Any] | None = None,
        logical_date: datetime | None = None,
        timeout: float = 300.0,
        **env: str,
    ) -> DagTest:
        """Run one DAG to its end with ``airflow dags test``, ``connection`` as wrk_default and
        ``env`` on top of this home's environment."""
        args = ["dags", "test", dag_id]
        if logical_date is not None:
            args.append(logical_date.isoformat())
        if conf is not None:
            args += ["-c", json.dumps(conf)]
        if connection is not None:
            env["AIRFLOW_CONN_WRK_DEFAULT"] = connection
        done = self.airflow(*args, timeout=timeout, **env)
        # A run of the same logical date replaces the earlier one, and SQLite may reuse its id:
        # the run is the one whose id the command printed.
        rows = self.query(
            "SELECT run_id, state FROM dag_run WHERE dag_id = ? ORDER BY id DESC", dag_id
        )
        mine = [(run_id, state) for run_id, state in rows if run_id in done.output]
        run_id, state = mine[0] if mine else (None, None)
        return DagTest(dag_id, done.returncode, done.output, done.seconds, run_id, state)

    def query(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        db = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=30)
        try:
            return db.execute(sql, args).fetchall()
        finally:
            db.close()

    def task_states(self, dag_id: str, run_id: str | None) -> dict[tuple[str, int], str]:
        rows = self.query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
            dag_id,
            run_id,
        )
        return {(task_id, index): state for task_id, index, state in rows}

    def data_interval(self, dag_id: str, run_id: str | None) -> tuple[datetime, datetime]:
        [(start, end)] = self.query(
            "SELECT data_interval_start, data_interval_end FROM dag_run "
            "WHERE dag_id = ? AND run_id = ?",
            dag_id,
            run_id,
        )
        return _utc(start), _utc(end)

    def reschedules(self, dag_id: str, run_id: str | None, task_id: str) -> int:
        columns = {row[1] for row in self.query("PRAGMA table_info(task_reschedule)")}
        if "ti_id" in columns:  # Airflow 3 keys reschedules by task instance
            sql = (
                "SELECT count(*) FROM task_reschedule r JOIN task_instance ti ON r.ti_id = ti.id "
                "WHERE ti.dag_id = ? AND ti.run_id = ? AND ti.task_id = ?"
            )
        else:
            sql = (
                "SELECT count(*) FROM task_reschedule "
                "WHERE dag_id = ? AND run_id = ? AND task_id = ?"
            )
        return int(self.query(sql, dag_id, run_id, task_id)[0][0])


def _utc(stored: str) -> datetime:
    return datetime.fromisoformat(stored).replace(tzinfo=timezone.utc)


# What a simulator saw.


def is_async(request: RecordedRequest) -> bool:
    """Sent by the triggerer's httpx client, not by a worker's requests session."""
    return "httpx" in request.headers.get("user-agent", "")


def answered(request: RecordedRequest) -> bool:
    """The simulator worked out a normal answer (a slow answer too, even if nobody read it)."""
    return 200 <= request.status < 300


def reads_of(requests: Iterable[RecordedRequest], launch_id: int) -> list[RecordedRequest]:
    """Look-ups of one launch, by the list filter or by its own path."""
    return [
        request
        for request in requests
        if request.method == "GET"
        and (
            request.path == f"/launch/{launch_id}"
            or (request.path == "/launch" and request.query.get("launch_id") == str(launch_id))
        )
    ]


def looks_at(requests: Iterable[RecordedRequest], launch_id: int) -> list[RecordedRequest]:
    """Reads of one launch, and listings that may have shown it: the triggerer's poller reads
    the launches of one wrkflow with a single listing."""
    return [
        request
        for request in requests
        if request in reads_of([request], launch_id)
        or (
            request.method == "GET"
            and request.path == "/launch"
            and "launch_id" not in request.query
        )
    ]


def posts_of(
    requests: Iterable[RecordedRequest], launch_id: int, action: str
) -> list[RecordedRequest]:
    """Every ``POST /launch/{id}/pause`` (or ``resume``) attempt for one launch."""
    path = f"/launch/{launch_id}/{action}"
    return [request for request in requests if request.method == "POST" and request.path == path]


def transitions(requests: Iterable[RecordedRequest], launch_id: int, initial: str) -> list[str]:
    """The launch's changes of state that the pause and resume requests brought about.

    Every action request the simulator answered normally was applied, the ones answered late
    included; pausing a paused launch and resuming a running one change nothing.
    """
    targets = {
        f"/launch/{launch_id}/pause": "paused",
        f"/launch/{launch_id}/resume": "running",
    }
    status, changes = initial, []
    for request in requests:
        target = targets.get(request.path)
        if request.method != "POST" or target is None or not answered(request):
            continue
        if status not in (target, "completed"):
            changes.append(f"{status}->{target}")
            status = target
    return changes


def fault_counts(requests: Iterable[RecordedRequest]) -> dict[str, int]:
    """Answers that were not a normal answer, by status (0 for a dropped connection)."""
    counts = Counter(str(request.status) for request in requests if not answered(request))
    return dict(sorted(counts.items()))


class Cues:
    """Acts on a simulator from a background thread once its request log meets a condition,
    so a DAG run sees a launch running first and completed later, with no clock to race."""

    def __init__(self, sim: WrkSimulator, deadline: float = 600.0) -> None:
        self.sim = sim
        self._cues: list[tuple[Callable[[list[RecordedRequest]], bool], Callable[[], None]]] = []
        self.fired: list[bool] = []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + deadline
        self._thread = threading.Thread(target=self._watch, name="cues", daemon=True)

    def when(
        self, condition: Callable[[list[RecordedRequest]], bool], action: Callable[[], None]
    ) -> None:
        self._cues.append((condition, action))
        self.fired.append(False)

    def __enter__(self) -> Cues:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _watch(self) -> None:
        while not self._stop.wait(0.02) and time.monotonic() < self._deadline:
            if all(self.fired):
                return
            log = self.sim.requests
            for index, (condition, action) in enumerate(self._cues):
                if not self.fired[index] and condition(log):
                    action()
                    self.fired[index] = True
