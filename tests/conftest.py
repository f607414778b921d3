"""Every test runs against a throw-away Airflow home with a SQLite metadata DB of its own.

Figures a test measures are kept as test properties and summed up at the end of the run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="wrk-airflow-home-"))
ROOT = Path(__file__).resolve().parent.parent

os.environ["AIRFLOW_HOME"] = str(_HOME)
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(ROOT / "example_dags")
os.environ["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = f"sqlite:///{_HOME / 'airflow.db'}"
os.environ.setdefault("AIRFLOW__CORE__TEST_CONNECTION", "Enabled")
for name in list(os.environ):
    if name.startswith("AIRFLOW_CONN_"):
        del os.environ[name]


@pytest.fixture
def report(
    record_property: Callable[[str, object], None], request: pytest.FixtureRequest
) -> Callable[[str, object], None]:
    """Record a figure on the test (``record_property``) and print it."""

    def note(name: str, value: object) -> None:
        record_property(name, value)
        print(f"{request.node.name}: {name} = {value}")

    return note


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    lines = []
    for outcome in ("passed", "failed"):
        for test in terminalreporter.stats.get(outcome, []):
            if getattr(test, "when", "") != "call":
                continue
            for name, value in test.user_properties:
                lines.append(f"{test.nodeid.rsplit('/', 1)[-1]} [{outcome}] {name}: {value}")
    if lines:
        terminalreporter.section("measured figures")
        for line in lines:
            terminalreporter.write_line(line)
