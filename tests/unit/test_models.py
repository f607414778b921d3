"""Launches parsed from both documented shapes, statuses and instants."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time

import pendulum
import pytest

from wrk_provider.client.errors import WrkBadResponseError, WrkInvalidInputError
from wrk_provider.client.models import Launch, LaunchPage, LaunchStatus, to_datetime
from wrk_provider.client.protocol import LaunchFilters
from wrk_provider.client.sync import WrkClient

T0 = 1_728_673_181
T0_UTC = pendulum.datetime(2024, 10, 11, 18, 59, 41, tz="UTC")

SEED_LAUNCH = {
    "launch_id": 1223321,
    "wrkflow_uuid": "d3cb5c8d-de4b-4a72-84b3-e529c444d842",
    "name": "My launch",
    "start_date": T0,
    "state": {"status": "running", "time_elapsed": 12, "num_task_completed": 34, "num_errors": 0},
}

OPENAPI_LAUNCH = {
    "id": "1223321",
    "wrkflow_uuid": "d3cb5c8d-de4b-4a72-84b3-e529c444d842",
    "name": "My launch",
    "start_date": "2024-10-11T18:59:41Z",
    "state": {
        "status": "PAUSED",
        "time_elapsed_sec": 12,
        "num_task_completed": 34,
        "num_errors": 2,
    },
}


def launch_with(**changes: object) -> dict[str, object]:
    data = json.loads(json.dumps(SEED_LAUNCH))
    state = changes.pop("state", None)
    data.update(changes)
    if isinstance(state, dict):
        data["state"].update(state)
    elif state is not None:
        data["state"] = state
    return data


# Parsing both shapes.


def test_seed_shape() -> None:
    launch = Launch.from_api(SEED_LAUNCH)

    assert launch.launch_id == 1223321
    assert launch.wrkflow_uuid == "d3cb5c8d-de4b-4a72-84b3-e529c444d842"
    assert launch.name == "My launch"
    assert launch.start_date == T0_UTC
    assert launch.start_date.timezone_name == "UTC"
    assert launch.status is LaunchStatus.RUNNING
    assert (launch.time_elapsed, launch.num_task_completed, launch.num_errors) == (12, 34, 0)
    assert launch.is_running and not launch.is_paused and not launch.is_completed


def test_parsed_launch_is_the_constructed_one() -> None:
    launch = Launch.from_api(SEED_LAUNCH)
    built = Launch(
        launch_id=1223321,
        wrkflow_uuid="d3cb5c8d-de4b-4a72-84b3-e529c444d842",
        name="My launch",
        start_timestamp=T0_UTC.timestamp(),
        status=LaunchStatus.RUNNING,
        time_elapsed=12,
        num_task_completed=34,
        num_errors=0,
    )

    assert dataclasses.asdict(launch) == dataclasses.asdict(built)
    assert vars(launch).keys() == vars(built).keys()
    assert launch == built and hash(launch) == hash(built)
    with pytest.raises(dataclasses.FrozenInstanceError):
        launch.num_errors = 1  # type: ignore[misc]


def test_openapi_shape() -> None:
    launch = Launch.from_api(OPENAPI_LAUNCH)

    assert launch.launch_id == "1223321"
    assert launch.start_date == T0_UTC
    assert launch.status is LaunchStatus.PAUSED
    assert (launch.time_elapsed, launch.num_task_completed, launch.num_errors) == (12, 34, 2)
    assert launch.is_paused


@pytest.mark.parametrize(
    ("word", "status"),
    [
        ("running", LaunchStatus.RUNNING),
        ("RUNNING", LaunchStatus.RUNNING),
        (" Paused ", LaunchStatus.PAUSED),
        ("Completed", LaunchStatus.COMPLETED),
    ],
)
def test_status_in_any_letter_case(word: str, status: LaunchStatus) -> None:
    assert Launch.from_api(launch_with(state={"status": word})).status is status


def test_unknown_status_is_kept_not_guessed() -> None:
    launch = Launch.from_api(launch_with(state={"status": "ARCHIVED"}))

    assert launch.status == "archived"
    assert not launch.is_known_status
    assert not (launch.is_running or launch.is_paused or launch.is_completed)


def test_optional_fields() -> None:
    data = {"id": 5, "start_date": T0, "state": {"status": "completed"}}

    launch = Launch.from_api(data)

    assert (launch.wrkflow_uuid, launch.name) == (None, None)
    assert (launch.time_elapsed, launch.num_task_completed, launch.num_errors) == (0, 0, 0)


def test_null_and_fractional_counters() -> None:
    launch = Launch.from_api(launch_with(state={"time_elapsed": 12.9, "num_errors": None}))

    assert (launch.time_elapsed, launch.num_errors) == (12, 0)


@pytest.mark.parametrize(
    ("start_date", "expected"),
    [
        (T0, T0_UTC),
        (float(T0) + 0.5, T0_UTC.add(microseconds=500_000)),
        (str(T0), T0_UTC),
        ("2024-10-11T18:59:41Z", T0_UTC),
        ("2024-10-11T20:59:41+02:00", T0_UTC),
        ("2024-10-11T18:59:41", T0_UTC),
    ],
)
def test_start_date_forms(start_date: object, expected: pendulum.DateTime) -> None:
    assert Launch.from_api(launch_with(start_date=start_date)).start_date == expected


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ([], "launch as list, expected a JSON object"),
        (None, "launch as NoneType"),
        (launch_with(launch_id=None), "without a usable 'launch_id' or 'id' (got None)"),
        (launch_with(launch_id=""), "without a usable 'launch_id' or 'id' (got '')"),
        (launch_with(launch_id=True), "without a usable 'launch_id' or 'id' (got True)"),
        (launch_with(launch_id=[1]), "without a usable 'launch_id' or 'id'"),
        (launch_with(state="running"), "launch 1223321: 'state' as str"),
        (launch_with(state={"status": None}), "launch 1223321 with no usable 'state.status'"),
        (launch_with(state={"status": "  "}), "no usable 'state.status' (got '  ')"),
        (launch_with(state={"status": 1}), "no usable 'state.status' (got 1)"),
        (launch_with(wrkflow_uuid=7), "'wrkflow_uuid' as int, expected a string"),
        (launch_with(name=["x"]), "'name' as list, expected a string"),
        (launch_with(start_date=None), "launch 1223321 without a usable 'start_date'"),
        (launch_with(start_date=True), "without a usable 'start_date'"),
        (launch_with(start_date="yesterday"), "'start_date'='yesterday'"),
        (launch_with(state={"num_errors": -1}), "'state.num_errors'=-1"),
        (launch_with(state={"num_task_completed": "3"}), "'state.num_task_completed'='3'"),
        (launch_with(state={"time_elapsed": False}), "'state.time_elapsed'=False"),
    ],
)
def test_bad_launch_names_the_field(data: object, words: str) -> None:
    with pytest.raises(WrkBadResponseError) as caught:
        Launch.from_api(data)

    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")], ids=["nan", "inf"])
def test_non_finite_counter_is_a_bad_response(value: float) -> None:
    with pytest.raises(WrkBadResponseError, match="'state.num_errors'"):
        Launch.from_api(launch_with(state={"num_errors": value}))


def test_to_dict_round_trip() -> None:
    for data in (SEED_LAUNCH, OPENAPI_LAUNCH):
        launch = Launch.from_api(data)
        as_dict = launch.to_dict()

        assert json.loads(json.dumps(as_dict)) == as_dict
        assert as_dict["start_date"] == T0
        assert Launch.from_api(as_dict) == launch


def test_summary() -> None:
    launch = Launch.from_api(SEED_LAUNCH)

    assert launch.summary() == (
        "Launch 1223321 running: 34 tasks completed, 0 errors, 12 s elapsed"
    )


def test_unbound_launch_cannot_act() -> None:
    launch = Launch.from_api(SEED_LAUNCH)

    with pytest.raises(WrkInvalidInputError, match="Launch 1223321 is not bound to a client"):
        launch.pause()
    with pytest.raises(WrkInvalidInputError, match="client.pause_launch"):
        launch.resume()


def test_bound_client_is_not_part_of_equality_or_repr() -> None:
    launch = Launch.from_api(SEED_LAUNCH)
    bound = launch.bind(object())  # type: ignore[arg-type]

    assert bound == launch
    assert repr(bound) == repr(launch)
    assert "_client" not in repr(bound)


# Statuses.


@pytest.mark.parametrize(
    ("value", "status"),
    [
        (1, LaunchStatus.RUNNING),
        (2, LaunchStatus.PAUSED),
        (3, LaunchStatus.COMPLETED),
        ("1", LaunchStatus.RUNNING),
        (" 3 ", LaunchStatus.COMPLETED),
        ("running", LaunchStatus.RUNNING),
        ("PAUSED", LaunchStatus.PAUSED),
        ("Completed", LaunchStatus.COMPLETED),
        (LaunchStatus.PAUSED, LaunchStatus.PAUSED),
    ],
)
def test_status_parse(value: object, status: LaunchStatus) -> None:
    assert LaunchStatus.parse(value) is status


@pytest.mark.parametrize("value", [0, 4, -1, True, False, 1.0, "failed", "", None, [1]])
def test_status_parse_refuses(value: object) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        LaunchStatus.parse(value)

    assert str(caught.value).startswith(f"status_code={value!r} is not a launch status")
    assert "1 or 'running'" in str(caught.value)


def test_status_parse_names_the_field() -> None:
    with pytest.raises(WrkInvalidInputError, match="^target_status='x'"):
        LaunchStatus.parse("x", field_name="target_status")


def test_status_codes_and_text() -> None:
    assert [status.code for status in LaunchStatus] == [1, 2, 3]
    assert [str(status) for status in LaunchStatus] == ["running", "paused", "completed"]
    assert LaunchStatus.RUNNING == "running"


# Instants.


@pytest.mark.parametrize(
    "value",
    [
        T0,
        float(T0),
        str(T0),
        f" {T0} ",
        dt.datetime(2024, 10, 11, 18, 59, 41, tzinfo=dt.timezone.utc),
        dt.datetime(2024, 10, 11, 13, 59, 41, tzinfo=dt.timezone(dt.timedelta(hours=-5))),
        dt.datetime(2024, 10, 11, 18, 59, 41),
        pendulum.datetime(2024, 10, 11, 20, 59, 41, tz="Europe/Paris"),
        pendulum.naive(2024, 10, 11, 18, 59, 41),
        "2024-10-11T18:59:41Z",
        "2024-10-11T18:59:41+00:00",
        "2024-10-11T14:59:41-04:00",
        "2024-10-11T18:59:41",
        "2024-10-11 18:59:41",
    ],
    ids=repr,
)
def test_to_datetime_reads_every_form_as_utc(value: object) -> None:
    result = to_datetime(value, "when")

    assert result == T0_UTC
    assert isinstance(result, pendulum.DateTime)
    assert result.utcoffset() == dt.timedelta(0)


def test_naive_datetime_is_read_as_utc_not_local(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    try:
        assert to_datetime(dt.datetime(2024, 10, 11, 18, 59, 41), "when").int_timestamp == T0
        assert to_datetime("2024-10-11T18:59:41", "when").int_timestamp == T0
    finally:
        monkeypatch.undo()
        time.tzset()


def test_date_is_midnight_utc() -> None:
    assert to_datetime(dt.date(2024, 10, 11), "when") == pendulum.datetime(2024, 10, 11, tz="UTC")


@pytest.mark.parametrize(
    "value", [dt.datetime(2024, 10, 11), "2024-10-11T18:59:41", pendulum.naive(2024, 1, 1)]
)
def test_naive_values_can_be_refused(value: object) -> None:
    with pytest.raises(WrkInvalidInputError, match="^when=.* has no time zone"):
        to_datetime(value, "when", allow_naive=False)


def test_aware_values_pass_when_naive_ones_are_refused() -> None:
    assert to_datetime("2024-10-11T18:59:41Z", "when", allow_naive=False) == T0_UTC
    assert to_datetime(T0, "when", allow_naive=False) == T0_UTC


@pytest.mark.parametrize(
    "value",
    [True, None, "yesterday", "", [T0], float("nan"), float("inf"), "nan", 10**20],
    ids=repr,
)
def test_to_datetime_refuses(value: object) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        to_datetime(value, "lower_start_date")

    assert str(caught.value).startswith("lower_start_date=")
    assert "\n" not in str(caught.value)


# Pages.


def test_page_matching_applies_filters() -> None:
    launches = [
        Launch.from_api(launch_with(launch_id=1, start_date=T0, state={"status": "running"})),
        Launch.from_api(launch_with(launch_id=2, start_date=T0 + 5, state={"status": "paused"})),
        Launch.from_api(launch_with(launch_id=3, start_date=T0 + 9, state={"status": "RUNNING"})),
    ]
    page = LaunchPage(launches, 3)

    assert [item.launch_id for item in page.matching(LaunchFilters.create(status_code=1))] == [1, 3]
    within = LaunchFilters.create(lower_start_date=T0 + 5, upper_start_date=T0 + 9)
    assert [item.launch_id for item in page.matching(within)] == [2, 3]
    assert [item.launch_id for item in page.matching(LaunchFilters.create(launch_id="2"))] == [2]
    assert list(page) == launches
    assert not page.is_paged
    assert LaunchPage(launches, 3, page=0, page_size=50).is_paged


# Wrkflows.


def test_wrkflow_needs_a_uuid() -> None:
    with WrkClient("key") as client:
        assert client.get_wrkflow(" d3cb ").uuid == "d3cb"
        with pytest.raises(WrkInvalidInputError, match="wrkflow_uuid=None is not a wrkflow uuid"):
            client.get_wrkflow(None)  # type: ignore[arg-type]


def test_wrkflow_refuses_another_wrkflows_uuid() -> None:
    with WrkClient("key") as client:
        wrkflow = client.get_wrkflow("d3cb")

        with pytest.raises(WrkInvalidInputError, match="wrkflow_uuid"):
            wrkflow.get_launches(wrkflow_uuid="other", status_code=1)
