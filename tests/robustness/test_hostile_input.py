"""Hostile and mistaken input: every case ends in one clear line, and never in a hang.

One table, 81 cases: 18 launch ids; 18 connections, keys and base URLs; 15 numbers (intervals,
timeouts, limits); 10 dates and filters; 20 answers from the server (bodies, fields, statuses,
redirects, time). Each case checks that the error is one line, names the input (the argument,
the field or the value), says what to do, never shows the API key, and, when the input alone is
wrong, that nothing was sent.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from unittest import mock

import pytest
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException

from wrk_provider.client.aio import AsyncWrkClient
from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkServerError,
    WrkUnreachableError,
)
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient
from wrk_provider.hooks.wrk import WrkHook
from wrk_provider.operators.wrk import (
    WrkListLaunchesOperator,
    WrkPauseLaunchOperator,
    WrkResumeLaunchOperator,
)
from wrk_provider.sensors.wrk import WrkLaunchSensor
from wrk_provider.testing import Fault, WrkSimulator
from wrk_provider.triggers.wrk import WrkLaunchTrigger

from .support import one_line

pytestmark = [
    pytest.mark.integration,
    pytest.mark.timeout(60),
    # Airflow 2 warns about the non-JSON extras of one case before the hook refuses them.
    pytest.mark.filterwarnings("ignore:Encountered non-JSON in .extra. field"),
]

T0 = 1_728_673_181
QUICK = RetryPolicy(max_attempts=2, initial_wait=0.01, max_wait=0.02)
#: Words of a message that tells the reader what to do next.
ADVICE = (
    r"\b(use|give|set|check|put|paste|swap|try|upgrade|lower|raise|resume|read|write|unset"
    r"|must be)\b"
)
ANY = r""
LONG_ID = "7" * 10_000


@dataclass
class Env:
    """A simulator with one running and one completed launch, and ways to reach it."""

    sim: WrkSimulator
    monkeypatch: pytest.MonkeyPatch
    running: int
    completed: int

    def __post_init__(self) -> None:
        self._closers: list[Callable[[], Any]] = []
        # A stand-in for the task context: operators only push the launch link to XCom with it.
        self.context: Any = mock.MagicMock()

    def connect(self, conn_id: str = "wrk_default", **fields: Any) -> None:
        """Set the connection; ``fields`` override host, password and extra."""
        conn: dict[str, Any] = {
            "conn_type": "wrk",
            "host": self.sim.url,
            "password": self.sim.api_key,
            "extra": {"max_retries": 1, "retry_wait": 0.01, "retry_max_wait": 0.02, "timeout": 2},
        }
        extra = fields.pop("extra", None)
        if isinstance(extra, dict):
            conn["extra"].update(extra)
        elif extra is not None:
            conn["extra"] = extra
        conn.update(fields)
        conn = {name: value for name, value in conn.items() if value is not None}
        self.monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))

    def client(self, **options: Any) -> WrkClient:
        options.setdefault("retry", QUICK)
        options.setdefault("timeout", 2)
        client = WrkClient(options.pop("api_key", self.sim.api_key), **_at(self.sim, options))
        self._closers.append(client.close)
        return client

    def hook(self, conn_id: str = "wrk_default", **overrides: Any) -> WrkHook:
        hook = WrkHook(conn_id, **overrides)
        self._closers.append(hook.close)
        return hook

    def close(self) -> None:
        for close in self._closers:
            close()


def _at(sim: WrkSimulator, options: dict[str, Any]) -> dict[str, Any]:
    options.setdefault("base_url", sim.url)
    return options


def _trigger(**kwargs: Any) -> WrkLaunchTrigger:
    options: dict[str, Any] = {
        "launch_id": 1001,
        "wrk_conn_id": "wrk_default",
        "poll_interval": 5,
        "end_time": 2_000_000_000,
    }
    options.update(kwargs)
    return WrkLaunchTrigger(**options)


def _sensor(**kwargs: Any) -> WrkLaunchSensor:
    kwargs.setdefault("launch_id", 1001)
    return WrkLaunchSensor(task_id="wait", **kwargs)


def _async_get(env: Env, launch_id: Any) -> None:
    async def main() -> None:
        async with AsyncWrkClient(env.sim.api_key, base_url=env.sim.url, retry=QUICK) as client:
            await client.get_launch(launch_id)

    asyncio.run(main())


def _listing(*launches: dict[str, Any]) -> bytes:
    return json.dumps({"totalCount": len(launches), "launches": list(launches)}).encode()


def _launch(**changes: Any) -> dict[str, Any]:
    launch: dict[str, Any] = {
        "launch_id": 5,
        "wrkflow_uuid": "d3cb5c8d-de4b-4a72-84b3-e529c444d842",
        "name": "My launch",
        "start_date": T0,
        "state": {"status": "running", "time_elapsed": 12, "num_task_completed": 3},
    }
    launch.update(changes)
    return launch


def _served(env: Env, *faults: Fault, route: str = "GET /launch") -> Env:
    env.sim.inject(route, *faults)
    return env


def _unknown_status(env: Env) -> None:
    """The client keeps a status it does not know; the sensor's verdict refuses it."""
    env.sim.set_raw_status(env.running, "archived")
    launch = env.hook().get_launch(env.running)
    assert launch.status == "archived"
    _sensor(launch_id=env.running).poke(env.context)


def _paused_max_consecutive_failures(env: Env) -> None:
    sensor = _sensor(launch_id=env.running, deferrable=True, max_consecutive_failures=0)
    sensor.execute(env.context)


@dataclass(frozen=True)
class Case:
    id: str
    act: Callable[[Env], Any]
    raises: type[BaseException] | tuple[type[BaseException], ...]
    names: tuple[str, ...]
    advice: str = ADVICE
    sends: bool = False
    dialect: str = "seed"
    absent: tuple[str, ...] = ()


INPUT = WrkInvalidInputError

CASES = [
    # Launch ids, through the client, the hook, the async client, the trigger and the operators.
    Case("client-get-None", lambda e: e.client().get_launch(None), INPUT, ("launch_id=None",)),
    Case("client-get-empty", lambda e: e.client().get_launch(""), INPUT, ("launch_id=''",)),
    Case("client-get-blank", lambda e: e.client().get_launch("   "), INPUT, ("launch_id='   '",)),
    Case("client-get-negative", lambda e: e.client().get_launch(-1), INPUT, ("launch_id=-1",)),
    Case("client-pause-float", lambda e: e.client().pause_launch(1.5), INPUT, ("launch_id=1.5",)),
    Case("client-resume-dict", lambda e: e.client().resume_launch({"a": 1}), INPUT, ("{'a': 1}",)),
    Case("hook-get-dot-dot", lambda e: e.hook().get_launch("1/../2"), INPUT, ("'1/../2'",)),
    Case("hook-pause-query", lambda e: e.hook().pause_launch("1?x=1"), INPUT, ("'1?x=1'",)),
    Case("hook-resume-space", lambda e: e.hook().resume_launch("a b"), INPUT, ("'a b'",)),
    Case("hook-get-10k-chars", lambda e: e.hook().get_launch(LONG_ID), INPUT, ("launch_id=",)),
    Case(
        "hook-list-filter-query",
        lambda e: e.hook().get_launches(launch_id="1?x"),
        INPUT,
        ("'1?x'",),
    ),
    Case("async-get-empty", lambda e: _async_get(e, ""), INPUT, ("launch_id=''",)),
    Case("trigger-None", lambda e: _trigger(launch_id=None), INPUT, ("launch_id=None",)),
    Case("trigger-dot-dot", lambda e: _trigger(launch_id="1/../2"), INPUT, ("'1/../2'",)),
    Case(
        "pause-operator-None",
        lambda e: WrkPauseLaunchOperator(task_id="p", launch_id=None).execute(e.context),
        INPUT,
        ("launch_id=None",),
    ),
    Case(
        "resume-operator-space",
        lambda e: WrkResumeLaunchOperator(task_id="r", launch_id="a b").execute(e.context),
        INPUT,
        ("'a b'",),
    ),
    Case(
        "sensor-dict",
        lambda e: _sensor(launch_id={"a": 1}).execute(e.context),
        INPUT,
        ("launch_id={'a': 1}",),
    ),
    Case(
        "list-operator-negative",
        lambda e: WrkListLaunchesOperator(task_id="l", launch_id=-1).execute(e.context),
        INPUT,
        ("launch_id=-1",),
    ),
    # Connections and base URLs.
    Case(
        "missing-connection",
        lambda e: e.hook("wrk_missing").get_launch(1001),
        INPUT,
        ("'wrk_missing' is not defined", "AIRFLOW_CONN_WRK_MISSING"),
    ),
    Case(
        "connection-without-key",
        lambda e: (e.connect(password=None), e.hook().get_launch(1001)),
        INPUT,
        ("'wrk_default'", "API key"),
    ),
    Case(
        "connection-extras-not-json",
        lambda e: (e.connect(extra="timeout=3"), e.hook().get_launch(1001)),
        INPUT,
        ("'wrk_default'", "extras"),
    ),
    Case(
        "host-scheme-only",
        lambda e: (e.connect(host="http://"), e.hook().get_launch(1001)),
        INPUT,
        ("'http://'",),
    ),
    Case(
        "host-ftp",
        lambda e: (e.connect(host="ftp://x"), e.hook().get_launch(1001)),
        INPUT,
        ("'ftp://x'",),
    ),
    Case(
        "host-separator-only",
        lambda e: (e.connect(host="://"), e.hook().get_launch(1001)),
        INPUT,
        ("'://'",),
    ),
    Case(
        "host-broken-ipv6",
        lambda e: (e.connect(host="http://[::1"), e.hook().get_launch(1001)),
        INPUT,
        ("'http://[::1'",),
    ),
    Case(
        "host-with-spaces",
        lambda e: (e.connect(host="not a url with spaces"), e.hook().get_launch(1001)),
        INPUT,
        ("not a url with spaces",),
    ),
    Case(
        "client-url-spaces",
        lambda e: e.client(base_url="https://wrk .com/api/v1").get_launches(),
        INPUT,
        ("wrk .com",),
    ),
    Case(
        "host-remote-plain-http",
        lambda e: (e.connect(host="http://example.com"), e.hook().get_launch(1001)),
        INPUT,
        ("'http://example.com'", "allow_insecure_http"),
    ),
    Case(
        "client-url-ftp",
        lambda e: e.client(base_url="ftp://x").get_launches(),
        INPUT,
        ("'ftp://x'",),
    ),
    Case(
        "extra-max-retries-negative",
        lambda e: (e.connect(extra={"max_retries": -1}), e.hook().get_launch(1001)),
        INPUT,
        ("max_retries=-1",),
    ),
    Case(
        "extra-allow-insecure-maybe",
        lambda e: (e.connect(extra={"allow_insecure_http": "maybe"}), e.hook().get_launch(1)),
        INPUT,
        ("allow_insecure_http='maybe'",),
    ),
    Case(
        "extra-auth-scheme-two-words",
        lambda e: (e.connect(extra={"auth_scheme": "Api Key"}), e.hook().get_launch(1001)),
        INPUT,
        ("auth_scheme='Api Key'",),
    ),
    Case(
        "extra-page-size-zero",
        lambda e: (e.connect(extra={"page_size": 0}), e.hook().get_launches()),
        INPUT,
        ("page_size=0",),
    ),
    Case(
        "extra-rate-zero",
        lambda e: (
            e.connect(extra={"max_requests_per_second": 0}),
            asyncio.run(e.hook().get_async_conn()),
        ),
        INPUT,
        ("max_requests_per_second=0",),
        absent=("seconds above zero",),
    ),
    Case(
        "wrong-key-401",
        lambda e: (e.connect(password="wrk-not-the-key"), e.hook().get_launch(e.running)),
        WrkAuthenticationError,
        ("HTTP 401", "API key"),
        sends=True,
        absent=("wrk-not-the-key",),
    ),
    Case(
        "base-url-ftp-with-key",
        lambda e: (e.connect(host="ftp://user:wrk-in-the-url@h"), e.hook().get_launch(1001)),
        INPUT,
        ("'ftp://***@h'", "http(s)"),
        absent=("wrk-in-the-url",),
    ),
    # Numbers: intervals, timeouts, limits.
    Case("sensor-max-errors-superscript", lambda e: _sensor(max_errors="²"), INPUT, ("'²'",)),
    Case("trigger-poll-zero", lambda e: _trigger(poll_interval=0), INPUT, ("poll_interval=0",)),
    Case(
        "trigger-poll-negative", lambda e: _trigger(poll_interval=-1), INPUT, ("poll_interval=-1",)
    ),
    Case("trigger-poll-word", lambda e: _trigger(poll_interval="soon"), INPUT, ("'soon'",)),
    Case(
        "trigger-max-errors-negative", lambda e: _trigger(max_errors=-1), INPUT, ("max_errors=-1",)
    ),
    Case(
        "trigger-failures-zero",
        lambda e: _trigger(max_consecutive_failures=0),
        INPUT,
        ("max_consecutive_failures=0",),
    ),
    Case(
        "trigger-failures-word",
        lambda e: _trigger(max_consecutive_failures="three"),
        INPUT,
        ("max_consecutive_failures='three'",),
    ),
    Case("client-timeout-zero", lambda e: e.client(timeout=0), INPUT, ("timeout=0",)),
    Case("client-timeout-negative", lambda e: e.client(timeout=-5), INPUT, ("timeout=-5",)),
    Case(
        "client-connect-timeout-nan",
        lambda e: e.client(connect_timeout=float("nan")),
        INPUT,
        ("connect_timeout=nan",),
    ),
    Case(
        "hook-timeout-override-zero",
        lambda e: e.hook(timeout=0).get_launch(1001),
        INPUT,
        ("timeout=0",),
    ),
    Case(
        "sensor-poke-negative",
        lambda e: _sensor(poke_interval=-1),
        (ValueError, AirflowException),
        ("poke_interval",),
    ),
    Case("sensor-poke-zero", lambda e: _sensor(poke_interval=0), ValueError, ("poke_interval=0",)),
    Case("sensor-max-errors-negative", lambda e: _sensor(max_errors=-1), INPUT, ("max_errors=-1",)),
    Case(
        "sensor-failures-zero",
        _paused_max_consecutive_failures,
        INPUT,
        ("max_consecutive_failures=0",),
    ),
    # Dates and filters.
    Case(
        "date-yesterday",
        lambda e: e.hook().get_launches(lower_start_date="yesterday"),
        INPUT,
        ("lower_start_date='yesterday'",),
    ),
    Case(
        "date-naive-forbidden",
        lambda e: e.client(allow_naive_datetimes=False).get_launches(
            upper_start_date=dt.datetime(2024, 1, 1)
        ),
        INPUT,
        ("upper_start_date=", "time zone"),
    ),
    Case(
        "date-naive-text-forbidden",
        lambda e: e.client(allow_naive_datetimes=False).get_launches(
            lower_start_date="2024-01-01T00:00:00"
        ),
        INPUT,
        ("lower_start_date='2024-01-01T00:00:00'", "time zone"),
    ),
    Case(
        "dates-reversed",
        lambda e: e.hook().get_launches(
            lower_start_date="2024-02-01T00:00:00Z", upper_start_date="2024-01-01T00:00:00Z"
        ),
        INPUT,
        ("lower_start_date", "upper_start_date"),
    ),
    Case(
        "list-operator-yesterday",
        lambda e: WrkListLaunchesOperator(task_id="l", lower_start_date="yesterday").execute(
            e.context
        ),
        INPUT,
        ("'yesterday'",),
    ),
    Case(
        "status-code-seven",
        lambda e: e.hook().get_launches(status_code=7),
        INPUT,
        ("status_code=7",),
    ),
    Case(
        "status-code-arabic-digit",
        lambda e: e.hook().get_launches(status_code="٣"),
        INPUT,
        ("status_code='٣'",),
    ),
    Case("unknown-filter", lambda e: e.hook().get_launches(status="running"), INPUT, ("status",)),
    Case(
        "wrkflow-uuid-number",
        lambda e: e.hook().get_launches(wrkflow_uuid=123),
        INPUT,
        ("wrkflow_uuid=123",),
    ),
    Case(
        "wrkflow-get-launches-date",
        lambda e: e.hook().get_wrkflow("w").get_launches(upper_start_date="last week"),
        INPUT,
        ("'last week'",),
    ),
    # What the server answers.
    Case(
        "body-not-json",
        lambda e: _served(e, Fault.body(b"Service temporarily unavailable")).hook().get_launches(),
        WrkBadResponseError,
        ("GET /launch", "not JSON"),
        sends=True,
    ),
    Case(
        "body-cut-off-json",
        lambda e: _served(e, Fault.malformed()).hook().get_launch(e.running),
        WrkBadResponseError,
        ("GET /launch", "not JSON"),
        sends=True,
    ),
    Case(
        "body-html-page",
        lambda e: _served(e, Fault.html(status=200)).hook().get_launches(),
        WrkBadResponseError,
        ("GET /launch", "text/html"),
        sends=True,
    ),
    Case(
        "body-empty",
        lambda e: _served(e, Fault.body(b"")).hook().get_launch(e.running),
        WrkBadResponseError,
        ("GET /launch", "empty body"),
        sends=True,
    ),
    Case(
        "json-nested-too-deep",
        lambda e: _served(e, Fault.body(b"[" * 50_000 + b"]" * 50_000)).hook().get_launches(),
        WrkBadResponseError,
        ("GET /launch", "not JSON"),
        sends=True,
    ),
    Case(
        "json-without-launches",
        lambda e: _served(e, Fault.body(b'{"totalCount": 0}')).hook().get_launches(),
        WrkBadResponseError,
        ("'launches'",),
        sends=True,
    ),
    Case(
        "launch-without-state",
        lambda e: _served(e, Fault.body(_listing(_launch(state=None)))).hook().get_launches(),
        WrkBadResponseError,
        ("launch 5", "'state'"),
        sends=True,
    ),
    Case(
        "num-errors-many",
        lambda e: (
            _served(
                e, Fault.body(_listing(_launch(state={"status": "running", "num_errors": "many"})))
            )
            .hook()
            .get_launches()
        ),
        WrkBadResponseError,
        ("state.num_errors", "'many'"),
        sends=True,
    ),
    Case(
        "launch-id-true",
        lambda e: _served(e, Fault.body(_listing(_launch(launch_id=True)))).hook().get_launches(),
        WrkBadResponseError,
        ("'launch_id'", "True"),
        sends=True,
    ),
    Case(
        "status-unknown",
        _unknown_status,
        AirflowFailException,
        ("Launch 1001", "'archived'"),
        sends=True,
    ),
    Case(
        "status-403",
        lambda e: _served(e, Fault.error(403)).hook().get_launch(e.running),
        WrkAuthenticationError,
        ("HTTP 403", "launch 1001"),
        sends=True,
    ),
    Case(
        "status-404-seed",
        lambda e: e.hook().get_launch(424242),
        WrkNotFoundError,
        ("Launch 424242",),
        sends=True,
    ),
    Case(
        "status-404-openapi",
        lambda e: e.hook().pause_launch(424242),
        WrkNotFoundError,
        ("HTTP 404", "launch 424242"),
        sends=True,
        dialect="openapi",
    ),
    Case(
        "status-409-openapi",
        lambda e: e.hook().pause_launch(e.completed),
        WrkAPIError,
        ("HTTP 409", "launch 1002"),
        sends=True,
        dialect="openapi",
    ),
    Case(
        "status-422",
        lambda e: _served(e, Fault.error(422)).hook().get_launches(),
        WrkAPIError,
        ("HTTP 422", "GET /launch"),
        sends=True,
    ),
    Case(
        "redirect-elsewhere",
        lambda e: _served(e, Fault.redirect("https://elsewhere.example/api")).hook().get_launches(),
        WrkAPIError,
        ("HTTP 307", "elsewhere.example"),
        sends=True,
    ),
    Case(
        "status-500-forever",
        lambda e: _served(e, Fault.error(500, times=0)).client(retry=_tries(3)).get_launches(),
        WrkServerError,
        ("HTTP 500", "Gave up after 3 attempts"),
        sends=True,
    ),
    Case(
        "status-429-forever",
        lambda e: _served(e, Fault.error(429, times=0)).client(retry=_tries(3)).get_launch(1001),
        WrkRateLimitedError,
        ("HTTP 429", "Gave up after 3 attempts"),
        sends=True,
    ),
    Case(
        "html-502-forever",
        lambda e: _served(e, Fault.html(502, times=0)).client(retry=_tries(2)).get_launches(),
        WrkServerError,
        ("HTTP 502", "an HTML page", "Gave up after 2 attempts"),
        sends=True,
    ),
    Case(
        "answer-never-comes",
        lambda e: (
            _served(e, Fault.slow(3, times=0)).client(timeout=0.3, retry=_tries(2)).get_launch(1001)
        ),
        WrkUnreachableError,
        ("read timeout", "Gave up after 2 attempts"),
        sends=True,
    ),
]


def _tries(attempts: int) -> RetryPolicy:
    return RetryPolicy(max_attempts=attempts, initial_wait=0.01, max_wait=0.02)


def _params() -> list[Any]:
    return [pytest.param(case, id=case.id) for case in CASES]


def test_the_table_is_large_enough() -> None:
    assert len(CASES) == 81  # the count in the module docstring
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", _params())
def test_hostile_input_fails_clearly(
    case: Case,
    wrk_simulator_factory: Callable[..., WrkSimulator],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = wrk_simulator_factory(dialect=case.dialect, manual_clock=True, action_delay=0)
    env = Env(
        sim,
        monkeypatch,
        running=sim.add_launch(launch_id=1001, start_date=T0, duration=600),
        completed=sim.add_launch(launch_id=1002, start_date=T0, status="completed"),
    )
    env.connect()
    try:
        with pytest.raises(case.raises) as caught:
            case.act(env)
    finally:
        env.close()

    message = str(caught.value)
    assert one_line(message), message
    for name in case.names:
        assert name in message, message
    assert re.search(case.advice, message, re.IGNORECASE), f"says nothing to do: {message}"
    for word in (sim.api_key, *case.absent):
        assert word not in message, message
    if isinstance(caught.value, WrkError) and not case.sends:
        assert isinstance(caught.value, WrkInvalidInputError)
    if case.sends:
        assert sim.requests, "the case was meant to reach the server"
    else:
        assert sim.requests == [], f"sent before refusing: {sim.requests}"
