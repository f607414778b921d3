"""The demo: a Wrk simulator, the hook against it, then example DAG 1 run by a real Airflow.

Everything lives in a temporary AIRFLOW_HOME with a fresh SQLite metadata DB; nothing is left
behind. Run it with ``make demo``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.testing import WrkSimulator

ROOT = Path(__file__).resolve().parent.parent
DAG_ID = "example_wrk_pause_resume_wait"
SHOWN = re.compile(
    r"(Launch \d+|Asking Wrk|Waiting for launch|deferring|\[DAG TEST\] (starting|end) task|"
    r"DagRun Finished|Marking task as|failed with)"
)
NOISE = re.compile(r"^\S+ \[\w+\s*\] |^\[[^\]]+\] \{[^}]+\} \w+ - ")


def main() -> int:
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="wrk-demo-") as home, WrkSimulator(speed=10) as sim:
        uuid = sim.add_wrkflow(name="Invoice intake")
        launch_id = sim.add_launch(wrkflow_uuid=uuid, name="Invoices, December", duration=200)
        sim.add_launch(wrkflow_uuid=uuid, name="Invoices, November", status="completed")
        env = _airflow_env(home, sim)
        os.environ.update(env)

        print(f"Wrk simulator at {sim.url} (10x speed)\n")
        hook = WrkHook()
        for launch in hook.get_launches(wrkflow_uuid=uuid):
            print(f"  {launch.summary()}  [{launch.name}]")
        print(f"\nThe hook pauses launch {launch_id}: {hook.pause_launch(launch_id)}")
        print(f"  {hook.get_launch(launch_id).summary()}")
        print(f"The hook resumes it: {hook.resume_launch(launch_id)}")
        print(f"  {hook.get_launch(launch_id).summary()}")

        print(f"\nA fresh Airflow metadata DB in {home} ...")
        _airflow(env, "db", "migrate")
        print(f"airflow dags test {DAG_ID}, launch_id={launch_id}:\n")
        code = _run_dag(env, launch_id)
        print(f"\nThe simulator's view at the end: {json.dumps(sim.launch(launch_id))}")
        print(f"Demo finished in {time.monotonic() - started:.0f} s.")
        return code


def _airflow_env(home: str, sim: WrkSimulator) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": home,
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "example_dags"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home}/airflow.db",
        "AIRFLOW_CONN_WRK_DEFAULT": sim.connection_uri(),
    }


def _airflow(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "airflow", *args],
        env={**os.environ, **env},
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _run_dag(env: dict[str, str], launch_id: int) -> int:
    command = [sys.executable, "-m", "airflow", "dags", "test", DAG_ID]
    command += ["--conf", json.dumps({"launch_id": launch_id})]
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    seen: set[str] = set()
    finished = "failed"
    for line in process.stdout:
        if not SHOWN.search(line):
            continue
        text = NOISE.sub("", line.strip())
        text = re.sub(r"\s+\[[\w.]+\]( loc=\S+)?.*$", "", text) if " loc=" in text else text
        if text in seen:
            continue
        seen.add(text)
        if "DagRun Finished" in text:
            finished = "success" if "state=success" in text else "failed"
            run_id = re.search(r"run_id=([^,\s]+)", text)
            text = f"DAG run finished: {finished}"
            if run_id:
                print(f"  {text}\n\nTask states:")
                _print_states(env, run_id.group(1))
                continue
        text = re.sub(r"\[DAG TEST\] (starting|end) task task_id=(\S+).*", r"task \2: \1", text)
        print(f"  {text}")
    code = process.wait()
    return code if code else (0 if finished == "success" else 1)


def _print_states(env: dict[str, str], run_id: str) -> None:
    answer = subprocess.run(
        [sys.executable, "-m", "airflow", "tasks", "states-for-dag-run", DAG_ID, run_id],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    for line in answer.stdout.splitlines():
        if DAG_ID in line or "task_id" in line or line.startswith("="):
            print("  " + line)


if __name__ == "__main__":
    sys.exit(main())
