"""Figures the reliability tests measure, kept as test properties and summed up at the end."""

from __future__ import annotations

from collections.abc import Callable

import pytest


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
            if getattr(test, "when", "") != "call" or "reliability/" not in test.nodeid:
                continue
            for name, value in test.user_properties:
                lines.append(f"{test.nodeid.rsplit('/', 1)[-1]} [{outcome}] {name}: {value}")
    if lines:
        terminalreporter.section("reliability figures")
        for line in lines:
            terminalreporter.write_line(line)
