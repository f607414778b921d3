"""A real Airflow deployment in a throw-away home: the long-running processes, started and killed
by this test process alone.

Airflow 3 runs a scheduler (LocalExecutor), a DAG processor, a triggerer and an API server, which
the workers reach for the execution API. Airflow 2 runs a scheduler (SequentialExecutor, the only
one SQLite allows there) and a triggerer.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

import psutil

from .support import AIRFLOW_3, AirflowHome, free_port, run_command

T = TypeVar("T")

#: Every wait for the deployment ends, with the processes' logs, after this many seconds.
WAIT_LIMIT = 180.0


def deployment_settings() -> dict[str, str]:
    """Short intervals everywhere, and a triggerer that is thought dead 5 s after it stops."""
    settings = {
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC": "1",
        "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(free_port()),
    }
    if AIRFLOW_3:
        port = free_port()
        settings.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
                "AIRFLOW__API__HOST": "127.0.0.1",
                "AIRFLOW__API__PORT": str(port),
                "AIRFLOW__API__WORKERS": "1",
                "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
                "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
                "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(32),
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__DAG_PROCESSOR__PARSING_PROCESSES": "1",
            }
        )
    else:
        settings.update(
            {
                "AIRFLOW__CORE__EXECUTOR": "SequentialExecutor",
                "AIRFLOW__SCHEDULER__MIN_FILE_PROCESS_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__DAG_DIR_LIST_INTERVAL": "5",
                "AIRFLOW__SCHEDULER__PARSING_PROCESSES": "1",
                "AIRFLOW__WEBSERVER__SECRET_KEY": secrets.token_hex(16),
            }
        )
    return settings


class Deployment:
    """Airflow's long-running processes, each in a process group of its own, logging to files."""

    def __init__(self, home: AirflowHome, logs: Path, **env: str) -> None:
        self.home = home
        self.logs = logs
        self.env = home.env(**deployment_settings(), **env)
        self.processes: dict[str, subprocess.Popen[Any]] = {}
        self._files: list[IO[str]] = []
        self._started: list[subprocess.Popen[Any]] = []
        logs.mkdir(parents=True, exist_ok=True)

    def command(self, *args: str, timeout: float = WAIT_LIMIT) -> str:
        """Run an ``airflow`` command with the deployment's environment; fail unless it works."""
        done = run_command([sys.executable, "-m", "airflow", *args], self.env, timeout)
        assert done.returncode == 0, f"airflow {' '.join(args)} failed:\n{done.output[-4000:]}"
        return done.output

    def start(self, name: str, *args: str) -> None:
        """Start ``airflow <args>`` as the process called ``name``."""
        assert name not in self.processes, f"{name} is already running"
        log = open(self.logs / f"{name}-{len(self._started)}.log", "w")  # noqa: SIM115
        self._files.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "airflow", *args],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.processes[name] = process
        self._started.append(process)

    def start_all(self) -> None:
        if AIRFLOW_3:
            self.start("api-server", "api-server")
            self.start("dag-processor", "dag-processor")
        self.start("scheduler", "scheduler", "--skip-serve-logs")
        self.start("triggerer", "triggerer", "--skip-serve-logs")

    def kill(self, name: str) -> None:
        """SIGKILL the process and everything it started, as a crash or an OOM kill would."""
        process = self.processes.pop(name)
        _signal_tree(process, signal.SIGKILL)
        process.wait(timeout=30)

    def stop_all(self) -> None:
        """End every process this deployment started: SIGTERM first, SIGKILL what stays."""
        for process in self._started:
            _signal_tree(process, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for process in self._started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
        for process in self._started:
            _signal_tree(process, signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)
        self.processes.clear()
        for log in self._files:
            log.close()

    def log_tails(self, size: int = 3000) -> str:
        """The end of every process's log, for a failure message."""
        parts = []
        for path in sorted(self.logs.glob("*.log")):
            text = path.read_text(errors="replace")
            parts.append(f"----- {path.name}\n{text[-size:]}")
        return "\n".join(parts)

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            code = process.poll()
            assert code is None, f"{name} exited with {code}:\n{self.log_tails()}"

    def wait_for(
        self, what: str, probe: Callable[[], T | None], limit: float = WAIT_LIMIT
    ) -> tuple[T, float]:
        """Poll ``probe`` every second until it returns something; return it and the seconds
        waited. Fail with the processes' logs after ``limit`` seconds or when one exits."""
        began = time.monotonic()
        while True:
            found = probe()
            if found is not None:
                return found, time.monotonic() - began
            self.check_alive()
            if time.monotonic() - began > limit:
                raise AssertionError(
                    f"Waited {limit:g} s for {what}, in vain. Logs:\n{self.log_tails()}"
                )
            time.sleep(1.0)


def _signal_tree(process: subprocess.Popen[Any], sig: int) -> None:
    """Signal the process, the group it leads and every descendant, by their ids."""
    try:
        family = [psutil.Process(process.pid), *psutil.Process(process.pid).children(True)]
    except psutil.NoSuchProcess:
        family = []
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, sig)
    for member in family:
        with contextlib.suppress(psutil.NoSuchProcess, psutil.AccessDenied):
            member.send_signal(sig)
