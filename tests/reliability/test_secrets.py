"""The API key shows up nowhere Airflow keeps anything, and is sent to no other origin.

Every example DAG runs to success with a recognisable key against a simulator in the published
API's shape. Then one ad-hoc DAG fails in four ways: a launch that does not exist, a wrong key,
and a redirect to another origin, answered once to a worker and once to the triggerer. The
output of every run, every file of the Airflow home and every value of its metadata DB are
searched for both keys in several encodings; so are the reprs of the provider's objects.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import pickle
import secrets
import shutil
import sqlite3
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from cryptography.fernet import Fernet

from wrk_provider.client.errors import WrkError
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.testing import Fault, RecordedRequest, WrkSimulator
from wrk_provider.triggers.wrk import WrkLaunchTrigger

from . import scenes
from .scan import find, scan_home, secret_forms
from .support import (
    EXAMPLE_DAGS,
    PAUSE_RESUME_WAIT,
    PAUSE_RUNNING,
    WAIT_STRICT,
    AirflowHome,
    Cues,
    DagTest,
    answered,
    connection_json,
    is_async,
)

pytestmark = pytest.mark.integration

#: A key with characters that URL-encoding and base64 change.
KEY = f"wrk-secret-{secrets.token_hex(12)}+{secrets.token_hex(4)}/{secrets.token_hex(4)}"
WRONG_KEY = f"wrk-secret-{secrets.token_hex(16)}"
FORMS = {
    **{f"key {name}": form for name, form in secret_forms(KEY).items()},
    **{f"wrong key {name}": form for name, form in secret_forms(WRONG_KEY).items()},
}
RETRIES = {"timeout": 2, "max_retries": 2, "retry_wait": 0.05, "retry_max_wait": 0.2}

FAILURES_DAG = "wrk_secret_failures"
MISSING_LAUNCH = 999999
FAILURES_SOURCE = f'''\
"""Four tasks that fail: a missing launch, a wrong key, and redirects to another origin."""

from datetime import datetime

from airflow.providers.common.compat.sdk import DAG

from wrk_provider.operators.wrk import WrkPauseLaunchOperator
from wrk_provider.sensors.wrk import WrkLaunchSensor

with DAG("{FAILURES_DAG}", schedule=None, start_date=datetime(2024, 1, 1), catchup=False):
    WrkLaunchSensor(task_id="missing_launch", launch_id={MISSING_LAUNCH}, poke_interval=1)
    WrkPauseLaunchOperator(task_id="wrong_key", launch_id=1001, wrk_conn_id="wrk_wrong_key")
    WrkLaunchSensor(
        task_id="redirect_worker",
        launch_id=1001,
        wrk_conn_id="wrk_redirect_worker",
        poke_interval=1,
    )
    WrkLaunchSensor(
        task_id="redirect_triggerer",
        launch_id=1001,
        wrk_conn_id="wrk_redirect_triggerer",
        deferrable=True,
        poke_interval=1,
    )
'''


Redirected = dict[str, list[RecordedRequest]]


@dataclass
class Runs:
    """Every run of this module, and what the simulators saw."""

    root: Path
    home: AirflowHome
    results: dict[str, DagTest]
    elsewhere: list[RecordedRequest]
    redirected: Redirected


def run_example(home: AirflowHome, dag_id: str, scene: scenes.Scene) -> DagTest:
    with WrkSimulator(api_key=KEY, dialect="openapi", manual_clock=True) as sim, Cues(sim) as cues:
        options = scene(sim, cues)
        connection = connection_json(sim.url, KEY, **RETRIES)
        return home.dags_test(dag_id, connection=connection, **options)


def redirect_everything(sim: WrkSimulator, elsewhere: WrkSimulator) -> None:
    sim.inject("*", Fault.redirect(f"{elsewhere.url}/launch", times=0))


def run_failures(home: AirflowHome) -> tuple[DagTest, list[RecordedRequest], Redirected]:
    with contextlib.ExitStack() as stack:

        def simulator() -> WrkSimulator:
            sim = stack.enter_context(WrkSimulator(api_key=KEY, dialect="openapi"))
            sim.add_launch(launch_id=1001, duration=3600)
            return sim

        main, worker, triggerer, elsewhere = (simulator() for _ in range(4))
        redirect_everything(worker, elsewhere)
        # The sensor's first look is answered; it defers, and the triggerer is redirected.
        cues = stack.enter_context(Cues(triggerer))
        cues.when(
            lambda log: any(map(answered, log)),
            functools.partial(redirect_everything, triggerer, elsewhere),
        )
        result = home.dags_test(
            FAILURES_DAG,
            connection=connection_json(main.url, KEY, **RETRIES),
            AIRFLOW_CONN_WRK_WRONG_KEY=connection_json(main.url, WRONG_KEY, **RETRIES),
            AIRFLOW_CONN_WRK_REDIRECT_WORKER=connection_json(worker.url, KEY, **RETRIES),
            AIRFLOW_CONN_WRK_REDIRECT_TRIGGERER=connection_json(triggerer.url, KEY, **RETRIES),
        )
        redirected = {"worker": worker.requests, "triggerer": triggerer.requests}
        return result, elsewhere.requests, redirected


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runs]:
    root = Path(tmp_path_factory.mktemp("secrets"))
    dags = root / "dags"
    shutil.copytree(EXAMPLE_DAGS, dags, ignore=shutil.ignore_patterns("__pycache__"))
    (dags / f"{FAILURES_DAG}.py").write_text(FAILURES_SOURCE)
    home = AirflowHome(root / "home", dags)
    home.migrate()

    results = {
        PAUSE_RESUME_WAIT: run_example(home, PAUSE_RESUME_WAIT, scenes.pause_resume_wait),
        PAUSE_RUNNING: run_example(home, PAUSE_RUNNING, scenes.pause_running),
        WAIT_STRICT: run_example(home, WAIT_STRICT, scenes.wait_strict),
    }
    results[FAILURES_DAG], elsewhere, redirected = run_failures(home)
    yield Runs(root, home, results, elsewhere, redirected)


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_runs_went_as_planned(runs: Runs) -> None:
    """The examples succeeded, and each failing task failed for its own reason."""
    for dag_id in (PAUSE_RESUME_WAIT, PAUSE_RUNNING, WAIT_STRICT):
        assert runs.results[dag_id].state == "success", runs.results[dag_id].tail()
    failures = runs.results[FAILURES_DAG]
    assert failures.state == "failed"
    assert runs.home.task_states(FAILURES_DAG, failures.run_id) == {
        (task_id, -1): "failed"
        for task_id in ("missing_launch", "wrong_key", "redirect_worker", "redirect_triggerer")
    }
    assert failures.task_log("missing_launch").lines(f"{MISSING_LAUNCH} failed with HTTP 404")
    assert failures.task_log("wrong_key").lines("failed with HTTP 401")
    redirect = "not followed so that the key stays with the configured host"
    assert failures.task_log("redirect_worker").lines(redirect)
    gave_up = failures.task_log("redirect_triggerer").lines("Gave up waiting for launch 1001")
    assert gave_up
    assert redirect in gave_up[0]


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_redirects_send_nothing_to_the_other_origin(runs: Runs) -> None:
    assert runs.elsewhere == []
    worker, triggerer = runs.redirected["worker"], runs.redirected["triggerer"]
    assert [request.status for request in worker] == [307]  # a 3xx is not retried
    first_look, *looks = triggerer
    assert first_look.status == 200
    assert not is_async(first_look)
    assert [request.status for request in looks] == [307] * 5
    assert all(map(is_async, looks))


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_no_output_holds_a_key(runs: Runs) -> None:
    for dag_id, result in runs.results.items():
        assert find(result.output, FORMS, dag_id) == []


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_nothing_airflow_keeps_holds_a_key(runs: Runs, report: Callable[..., None]) -> None:
    findings, scanned = scan_home(runs.root, runs.home.db, runs.home.fernet_key, FORMS)
    report("scanned", scanned)
    assert findings == []
    # The DB holds the runs: their XComs, rendered fields and (on Airflow 3) triggers.
    assert scanned["rows"] >= 20
    xcoms = runs.home.query("SELECT count(*) FROM xcom")[0][0]
    rendered = runs.home.query("SELECT count(*) FROM rendered_task_instance_fields")[0][0]
    assert xcoms >= 10
    assert rendered >= 10


def test_the_provider_objects_show_no_key(
    wrk_simulator: WrkSimulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reprs, strings and serialised forms of the hook, clients, config and trigger."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_WRK_DEFAULT", connection_json(wrk_simulator.url, KEY, **RETRIES)
    )
    hook = WrkHook()
    client = hook.get_conn()
    trigger = WrkLaunchTrigger(
        launch_id=1001, wrk_conn_id="wrk_default", poll_interval=5, end_time=2_000_000_000
    )

    async def async_client_texts() -> list[str]:
        async_client = await hook.get_async_conn()
        try:
            return [repr(async_client), str(async_client), repr(async_client.config)]
        finally:
            await async_client.aclose()

    with pytest.raises(WrkError) as failed:  # the simulator's key is not KEY
        client.get_launches()
    texts = [
        repr(hook),
        str(hook),
        repr(client),
        str(client),
        repr(client.config),
        str(client.config),
        repr(vars(client.config)),
        repr(client.config.api_key),
        repr(vars(hook)),
        repr(trigger),
        repr(trigger.serialize()),
        str(failed.value),
        repr(failed.value),
        repr(failed.value.args),
        repr(vars(failed.value)),
        *asyncio.run(async_client_texts()),
    ]
    hook.close()
    assert "HTTP 401" in str(failed.value)
    for text in texts:
        assert find(text, FORMS, text[:60]) == []
    assert find(pickle.dumps(failed.value), FORMS, "pickled error") == []
    with pytest.raises(TypeError):
        pickle.dumps(client.config)


def test_the_scan_finds_a_planted_key(tmp_path: Path) -> None:
    """The search itself: a key planted in each way it could hide is found there."""
    fernet_key = Fernet.generate_key().decode()
    (tmp_path / "logs").mkdir()
    header = base64.b64encode(f"Authorization: Api-Key {KEY}".encode())
    (tmp_path / "logs" / "attempt=1.log").write_bytes(b"sent " + header + b"\n")
    (tmp_path / "address.txt").write_text(f"https://elsewhere.test/?key={quote(KEY, safe='')}")
    (tmp_path / "short.txt").write_text(f"key ...{WRONG_KEY[-32:]}")
    db_path = tmp_path / "airflow.db"
    db = sqlite3.connect(db_path)
    with db:
        db.execute("CREATE TABLE variable (val TEXT, data BLOB)")
        token = Fernet(fernet_key.encode()).encrypt(f'{{"key": "{KEY}"}}'.encode()).decode()
        db.execute("INSERT INTO variable VALUES (?, ?)", (token, zlib.compress(KEY.encode())))
    db.close()

    findings, scanned = scan_home(tmp_path, db_path, fernet_key, FORMS)

    found = {(finding.where, finding.form.rsplit(" +", 1)[0]) for finding in findings}
    assert ("logs/attempt=1.log", "key base64") in found
    assert ("address.txt", "key URL-encoded") in found
    assert ("short.txt", "wrong key random part") in found
    assert ("variable.val row 0 (decrypted)", "key as written") in found
    assert ("variable.data row 0 (decompressed)", "key as written") in found
    assert not any(where == "airflow.db" for where, _ in found)
    assert scanned["log files"] == 1
    assert scanned["values decrypted"] == 1
