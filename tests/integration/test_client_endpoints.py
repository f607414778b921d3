"""Every endpoint and list filter of ``WrkClient``, over HTTP, against both API shapes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pendulum
import pytest

from wrk_provider.client.errors import WrkInvalidInputError, WrkNotFoundError
from wrk_provider.client.models import Launch, LaunchStatus
from wrk_provider.testing import Fault, WrkSimulator

pytestmark = pytest.mark.integration

T0 = 1_728_673_181


def ids(launches: list[Launch]) -> list[str]:
    return [str(launch.launch_id) for launch in launches]


def test_lists_every_launch_newest_first(sim: WrkSimulator, seeded: dict, make_client) -> None:
    launches = make_client(sim).get_launches()

    assert ids(launches) == ["106", "105", "104", "103", "102", "101"]
    assert [launch.start_date.int_timestamp for launch in launches] == [
        T0 + 300,
        T0 + 240,
        T0 + 180,
        T0 + 120,
        T0 + 60,
        T0,
    ]
    assert launches[0].status is LaunchStatus.RUNNING
    assert launches[0].wrkflow_uuid == seeded["a"]
    assert launches[1].status is LaunchStatus.PAUSED
    assert launches[3].status is LaunchStatus.COMPLETED
    assert launches[3].num_task_completed == 100


def test_list_answer_is_sorted_even_when_the_server_is_not(seed_sim: WrkSimulator, make_client):
    def item(launch_id: int, start: int) -> dict[str, Any]:
        return {"launch_id": launch_id, "start_date": start, "state": {"status": "running"}}

    body = {"totalCount": 3, "launches": [item(1, T0), item(3, T0 + 20), item(2, T0 + 10)]}
    seed_sim.inject("GET /launch", Fault.body(json.dumps(body).encode()))

    assert ids(make_client(seed_sim).get_launches()) == ["3", "2", "1"]


def test_empty_list(sim: WrkSimulator, make_client) -> None:
    assert make_client(sim).get_launches() == []


@pytest.mark.parametrize(
    "status_code", [1, "running", "RUNNING", "1", LaunchStatus.RUNNING], ids=repr
)
def test_filter_by_running_status(sim, seeded, make_client, status_code: Any) -> None:
    launches = make_client(sim).get_launches(status_code=status_code)

    assert ids(launches) == ["106", "104", "101"]
    assert all(launch.is_running for launch in launches)


@pytest.mark.parametrize(
    ("status_code", "expected"),
    [(2, ["105", "102"]), ("completed", ["103"]), (LaunchStatus.PAUSED, ["105", "102"])],
)
def test_filter_by_other_statuses(sim, seeded, make_client, status_code, expected) -> None:
    assert ids(make_client(sim).get_launches(status_code=status_code)) == expected


def test_status_filter_is_sent_as_its_code(sim: WrkSimulator, seeded, make_client) -> None:
    make_client(sim).get_launches(status_code="paused")

    assert sim.requests[-1].query["status_code"] == "2"


def test_filter_by_wrkflow(sim: WrkSimulator, seeded: dict, make_client) -> None:
    launches = make_client(sim).get_launches(wrkflow_uuid=seeded["b"])

    assert ids(launches) == ["104", "102"]
    assert sim.requests[-1].query["wrkflow_uuid"] == seeded["b"]


def test_filter_by_launch_id(sim: WrkSimulator, seeded, make_client) -> None:
    for launch_id in (103, "103"):
        launches = make_client(sim).get_launches(launch_id=launch_id)
        assert ids(launches) == ["103"]
        assert launches[0].status is LaunchStatus.COMPLETED


def test_filters_combine(sim: WrkSimulator, seeded: dict, make_client) -> None:
    launches = make_client(sim).get_launches(
        wrkflow_uuid=seeded["a"], status_code=1, lower_start_date=T0 + 1
    )

    assert ids(launches) == ["106"]


def test_filters_matching_nothing(sim: WrkSimulator, seeded, make_client) -> None:
    assert make_client(sim).get_launches(launch_id=999) == []
    assert make_client(sim).get_launches(wrkflow_uuid="no-such-wrkflow") == []


def date_forms(nudge: float) -> list[Any]:
    """The instant T0 + 120 s (2024-10-11T19:01:41Z) in every form a filter takes.

    ``nudge`` moves the float form off the whole second, outward from the bound.
    """
    utc = dt.timezone.utc
    return [
        pytest.param(T0 + 120, id="unix int"),
        pytest.param(T0 + 120 + nudge, id="unix float"),
        pytest.param(str(T0 + 120), id="unix string"),
        pytest.param(dt.datetime.fromtimestamp(T0 + 120, tz=utc), id="aware datetime"),
        pytest.param(
            dt.datetime.fromtimestamp(T0 + 120, tz=dt.timezone(dt.timedelta(hours=-5))),
            id="aware datetime elsewhere",
        ),
        pytest.param(dt.datetime(2024, 10, 11, 19, 1, 41), id="naive datetime read as UTC"),
        pytest.param(pendulum.from_timestamp(T0 + 120, tz="Europe/Paris"), id="pendulum"),
        pytest.param("2024-10-11T19:01:41Z", id="ISO string Z"),
        pytest.param("2024-10-11T21:01:41+02:00", id="ISO string offset"),
        pytest.param("2024-10-11T19:01:41", id="ISO string naive"),
    ]


@pytest.mark.parametrize("value", date_forms(-0.5))
def test_lower_start_date_in_every_form(sim, seeded, make_client, value) -> None:
    launches = make_client(sim).get_launches(lower_start_date=value)

    assert ids(launches) == ["106", "105", "104", "103"]


@pytest.mark.parametrize("value", date_forms(+0.5))
def test_upper_start_date_in_every_form(sim, seeded, make_client, value) -> None:
    launches = make_client(sim).get_launches(upper_start_date=value)

    assert ids(launches) == ["103", "102", "101"]


def test_date_bounds_are_inclusive_and_sent_as_unix(sim, seeded, make_client) -> None:
    launches = make_client(sim).get_launches(
        lower_start_date=T0 + 60, upper_start_date=pendulum.from_timestamp(T0 + 180)
    )

    assert ids(launches) == ["104", "103", "102"]
    query = sim.requests[-1].query
    assert (query["lower_start_date"], query["upper_start_date"]) == (
        str(T0 + 60),
        str(T0 + 180),
    )


def test_naive_datetimes_can_be_refused(sim: WrkSimulator, make_client) -> None:
    client = make_client(sim, allow_naive_datetimes=False)

    with pytest.raises(WrkInvalidInputError, match="lower_start_date=.*no time zone"):
        client.get_launches(lower_start_date=dt.datetime(2024, 10, 11))
    assert sim.requests == []


def test_openapi_server_ignores_filters_and_the_client_applies_them(
    openapi_sim: WrkSimulator, populate, make_client
) -> None:
    seeded = populate(openapi_sim)

    launches = make_client(openapi_sim).get_launches(
        status_code="running", lower_start_date=T0 + 60, upper_start_date=T0 + 299
    )

    assert ids(launches) == ["104"]
    request = openapi_sim.requests[-1]
    assert request.query["status_code"] == "1"
    assert seeded["ids"] == [101, 102, 103, 104, 105, 106]


def test_unknown_filter_is_refused_before_sending(sim: WrkSimulator, make_client) -> None:
    with pytest.raises(WrkInvalidInputError, match="Unknown launch filter statuscode"):
        make_client(sim).get_launches(statuscode=1)
    with pytest.raises(WrkInvalidInputError, match="status_code=7"):
        make_client(sim).get_launches(status_code=7)
    with pytest.raises(WrkInvalidInputError, match="swap them"):
        make_client(sim).get_launches(lower_start_date=T0 + 10, upper_start_date=T0)
    assert sim.requests == []


# Paging, in the published shape.


def add_many(sim: WrkSimulator, count: int) -> list[int]:
    return [sim.add_launch(start_date=T0 + index) for index in range(count)]


def test_follows_every_page(openapi_sim: WrkSimulator, make_client) -> None:
    added = add_many(openapi_sim, 120)

    launches = make_client(openapi_sim).get_launches()

    assert ids(launches) == [str(launch_id) for launch_id in reversed(added)]
    pages = [request.query.get("page", "0") for request in openapi_sim.requests]
    assert pages == ["0", "1", "2"]
    assert [request.query.get("page_size") for request in openapi_sim.requests][1:] == [
        "50",
        "50",
    ]


def test_page_size_option(openapi_sim: WrkSimulator, make_client) -> None:
    add_many(openapi_sim, 45)

    launches = make_client(openapi_sim, page_size=20).get_launches()

    assert len(launches) == 45
    assert len(set(ids(launches))) == 45
    queries = [request.query for request in openapi_sim.requests]
    assert [(q["page"], q["page_size"]) for q in queries] == [("0", "20"), ("1", "20"), ("2", "20")]


def test_filters_are_applied_on_every_page(openapi_sim: WrkSimulator, make_client) -> None:
    wanted = [
        openapi_sim.add_launch(start_date=T0 + index, status="paused" if index % 7 else "running")
        for index in range(110)
    ]
    running = [launch_id for index, launch_id in enumerate(wanted) if index % 7 == 0]

    launches = make_client(openapi_sim).get_launches(status_code=1)

    assert ids(launches) == [str(launch_id) for launch_id in reversed(running)]
    assert openapi_sim.count("GET", "/launch") == 3


def test_iter_launches_holds_one_page_at_a_time(openapi_sim: WrkSimulator, make_client) -> None:
    add_many(openapi_sim, 120)
    launches = make_client(openapi_sim).iter_launches()

    assert openapi_sim.requests == []
    first = next(launches)
    assert str(first.launch_id) == str(openapi_sim.launches()[0]["launch_id"])
    assert openapi_sim.count("GET", "/launch") == 1

    rest_of_first_page = [next(launches) for _ in range(49)]
    assert len(rest_of_first_page) == 49
    assert openapi_sim.count("GET", "/launch") == 1

    next(launches)
    assert openapi_sim.count("GET", "/launch") == 2
    assert openapi_sim.requests[-1].query["page"] == "1"


def test_iter_launches_yields_bound_launches(sim: WrkSimulator, seeded, make_client) -> None:
    launch = next(make_client(sim).iter_launches(launch_id=106))

    assert launch.pause() is True
    assert sim.launch(106)["state"]["status"] == "paused"


# One launch, pause and resume.


def test_get_launch(sim: WrkSimulator, seeded, make_client) -> None:
    launch = make_client(sim).get_launch(105)

    assert str(launch.launch_id) == "105"
    assert launch.status is LaunchStatus.PAUSED
    assert launch.start_date == pendulum.from_timestamp(T0 + 240)
    assert launch.name == "Launch 105"


def test_get_launch_uses_each_shape(sim: WrkSimulator, populate, make_client) -> None:
    populate(sim)
    client = make_client(sim)

    client.get_launch(101)
    client.get_launch("102")

    paths = [request.path for request in sim.requests]
    if sim.dialect == "seed":
        assert paths == ["/launch", "/launch"]
        assert [request.query for request in sim.requests] == [
            {"launch_id": "101"},
            {"launch_id": "102"},
        ]
    else:
        assert paths[-1] == "/launch/102"


def test_get_launch_beyond_the_first_page(openapi_sim: WrkSimulator, make_client) -> None:
    added = add_many(openapi_sim, 60)

    launch = make_client(openapi_sim).get_launch(added[0])

    assert str(launch.launch_id) == str(added[0])
    assert openapi_sim.requests[-1].path == f"/launch/{added[0]}"


def test_get_missing_launch(sim: WrkSimulator, seeded, make_client) -> None:
    with pytest.raises(WrkNotFoundError) as caught:
        make_client(sim).get_launch(999)

    assert caught.value.launch_id == "999"
    assert "999" in str(caught.value)
    assert "\n" not in str(caught.value)


def test_pause_and_resume(sim: WrkSimulator, seeded, make_client) -> None:
    client = make_client(sim)

    assert client.pause_launch(106) is True
    assert client.get_launch(106).status is LaunchStatus.PAUSED
    assert client.resume_launch("106") is True
    assert client.get_launch(106).status is LaunchStatus.RUNNING
    assert sim.count("POST", "/launch/106/pause") == 1
    assert sim.count("POST", "/launch/106/resume") == 1


def test_resuming_a_running_launch_succeeds(sim: WrkSimulator, seeded, make_client) -> None:
    assert make_client(sim).resume_launch(101) is True
    assert sim.launch(101)["state"]["status"] == "running"


def test_openapi_pause_is_accepted_before_it_is_done(wrk_simulator_factory, make_client) -> None:
    sim = wrk_simulator_factory(dialect="openapi", manual_clock=True, action_delay=30)
    launch_id = sim.add_launch()

    assert make_client(sim).pause_launch(launch_id) is True
    assert sim.requests[-1].status == 202
    assert make_client(sim).get_launch(launch_id).status is LaunchStatus.RUNNING


def test_counters_in_both_shapes(sim: WrkSimulator, make_client) -> None:
    launch_id = sim.add_launch(duration=100, total_tasks=50, num_errors=2)
    sim.advance(40)

    launch = make_client(sim).get_launch(launch_id)

    assert (launch.time_elapsed, launch.num_task_completed, launch.num_errors) == (40, 20, 2)
