"""Helpers shared by the robustness tests: connections, triggers run as a triggerer would."""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections.abc import Iterable
from typing import Any

from wrk_provider.client.retry import RetryPolicy
from wrk_provider.testing import RecordedRequest
from wrk_provider.triggers.poller import LaunchPoller
from wrk_provider.triggers.wrk import WrkLaunchTrigger

try:  # the function the triggerer itself loads trigger classes with
    from airflow._shared.module_loading import import_string
except ImportError:  # Airflow 2
    from airflow.utils.module_loading import import_string

__all__ = [
    "backoff_bound",
    "connection_json",
    "import_string",
    "list_reads",
    "make_trigger",
    "one_line",
    "poller_of",
    "refused_url",
    "run_trigger",
    "single_reads_of",
]

#: Retries that cost little time, so a failing look ends quickly.
QUICK_EXTRAS: dict[str, Any] = {
    "max_retries": 1,
    "retry_wait": 0.01,
    "retry_max_wait": 0.02,
    "timeout": 1,
    "connect_timeout": 1,
}


def connection_json(url: str, api_key: str | None, **extra: Any) -> str:
    """An Airflow connection in the JSON form of ``AIRFLOW_CONN_<ID>``."""
    conn: dict[str, Any] = {"conn_type": "wrk", "host": url, "extra": extra}
    if api_key is not None:
        conn["password"] = api_key
    return json.dumps(conn)


def refused_url() -> str:
    """A loopback base URL on a port nobody listens on, so every connection is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/api/v1"


def backoff_bound(policy: RetryPolicy) -> float:
    """The longest the waits between the tries of one request can add up to."""
    return sum(
        min(policy.max_wait, policy.initial_wait * 2 ** (attempt - 1))
        for attempt in range(1, policy.max_attempts)
    )


def one_line(text: str) -> bool:
    return "\n" not in text and "\r" not in text


def make_trigger(
    launch_id: int | str,
    poll_interval: float = 0.5,
    *,
    timeout: float = 60.0,
    conn_id: str = "wrk_default",
    **kwargs: Any,
) -> WrkLaunchTrigger:
    return WrkLaunchTrigger(
        launch_id=launch_id,
        wrk_conn_id=conn_id,
        poll_interval=poll_interval,
        end_time=time.time() + timeout,
        **kwargs,
    )


async def run_trigger(trigger: WrkLaunchTrigger) -> list[dict[str, Any]]:
    """Every event the trigger yields until its ``run()`` ends."""
    return [event.payload async for event in trigger.run()]


def poller_of(conn_id: str = "wrk_default") -> LaunchPoller:
    """The poller of a connection in the running event loop."""
    return LaunchPoller._registry[(conn_id, id(asyncio.get_running_loop()))]


def single_reads_of(requests: Iterable[RecordedRequest], launch_id: int | str) -> list[float]:
    """When the launch was read on its own, in either shape of the API."""
    wanted = str(launch_id)
    return [
        r.time
        for r in requests
        if r.method == "GET"
        and (
            r.path == f"/launch/{wanted}"
            or (r.path == "/launch" and r.query.get("launch_id") == wanted)
        )
    ]


def list_reads(requests: Iterable[RecordedRequest], wrkflow_uuid: str | None = None) -> list[float]:
    """When launches were listed (not looked up by id), optionally of one wrkflow."""
    return [
        r.time
        for r in requests
        if r.method == "GET"
        and r.path == "/launch"
        and "launch_id" not in r.query
        and (wrkflow_uuid is None or r.query.get("wrkflow_uuid") == wrkflow_uuid)
    ]


def rounds_of(times: Iterable[float], gap: float = 0.02) -> list[list[float]]:
    """Request times grouped into rounds: a pause longer than ``gap`` starts a new round."""
    grouped: list[list[float]] = []
    for stamp in sorted(times):
        if grouped and stamp - grouped[-1][-1] <= gap:
            grouped[-1].append(stamp)
        else:
            grouped.append([stamp])
    return grouped


def pages(total: int, page_size: int) -> int:
    return max(1, math.ceil(total / page_size))
