"""The help-center ("seed") dialect, over real HTTP."""

from __future__ import annotations

import http.client
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from wrk_provider.testing import WrkSimulator

from .support import SessionFor, status_of

WRKFLOW_A = "d3cb5c8d-de4b-4a72-84b3-e529c444d842"
WRKFLOW_B = "0b6f2f8e-7c1d-4d8e-9a55-2f1e0c3b4a99"


def _ids(payload: dict[str, Any]) -> list[int]:
    return [launch["launch_id"] for launch in payload["launches"]]


@pytest.fixture
def populated(seed_sim: WrkSimulator) -> WrkSimulator:
    """Four launches over two wrkflows, one of each status and two running."""
    seed_sim.add_wrkflow(WRKFLOW_A, "Invoices")
    seed_sim.add_wrkflow(WRKFLOW_B, "Leads")
    seed_sim.add_launch(WRKFLOW_A, "first", start_date=1_700_000_000)
    seed_sim.add_launch(WRKFLOW_A, "second", status="paused", start_date=1_700_000_100)
    seed_sim.add_launch(WRKFLOW_B, "third", status="completed", start_date=1_700_000_200)
    seed_sim.add_launch(WRKFLOW_B, "fourth", start_date=1_700_000_200)
    return seed_sim


def test_list_shape_and_order(populated: WrkSimulator, session_for: SessionFor) -> None:
    response = session_for(populated).get(f"{populated.url}/launch")

    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    payload = response.json()
    assert payload["totalCount"] == 4
    assert _ids(payload) == [1004, 1003, 1002, 1001]
    assert payload["launches"][3] == {
        "launch_id": 1001,
        "wrkflow_uuid": WRKFLOW_A,
        "name": "first",
        "start_date": 1_700_000_000,
        "state": {"status": "running", "time_elapsed": 0, "num_task_completed": 0, "num_errors": 0},
    }
    assert payload["launches"][1]["state"]["status"] == "completed"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"launch_id": "1002"}, [1002]),
        ({"launch_id": "999"}, []),
        ({"status_code": "1"}, [1004, 1001]),
        ({"status_code": "2"}, [1002]),
        ({"status_code": "3"}, [1003]),
        ({"wrkflow_uuid": WRKFLOW_B}, [1004, 1003]),
        ({"wrkflow_uuid": "nope"}, []),
        ({"lower_start_date": "1700000100"}, [1004, 1003, 1002]),
        ({"upper_start_date": "1700000100"}, [1002, 1001]),
        ({"lower_start_date": "1700000050", "upper_start_date": "1700000150"}, [1002]),
        ({"status_code": "1", "wrkflow_uuid": WRKFLOW_A}, [1001]),
        (
            {"page": "3", "page_size": "1", "name": "first", "colour": "red"},
            [1004, 1003, 1002, 1001],
        ),
    ],
)
def test_list_filters(
    populated: WrkSimulator,
    session_for: SessionFor,
    params: dict[str, str],
    expected: list[int],
) -> None:
    payload = session_for(populated).get(f"{populated.url}/launch", params=params).json()

    assert _ids(payload) == expected
    assert payload["totalCount"] == len(expected)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status_code": "abc"}, "status_code"),
        ({"status_code": "7"}, "status_code"),
        ({"launch_id": "x1"}, "launch_id"),
        ({"lower_start_date": "yesterday"}, "lower_start_date"),
        ({"upper_start_date": "nan"}, "upper_start_date"),
    ],
)
def test_bad_filter_values_are_400(
    seed_sim: WrkSimulator, session_for: SessionFor, params: dict[str, str], field: str
) -> None:
    response = session_for(seed_sim).get(f"{seed_sim.url}/launch", params=params)

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == 400
    assert field in error["message"]


def test_pause_and_resume(populated: WrkSimulator, session_for: SessionFor) -> None:
    session = session_for(populated)

    response = session.post(f"{populated.url}/launch/1001/pause")
    assert (response.status_code, response.json()) == (200, {"status": True})
    assert populated.launch(1001)["state"] == {
        "status": "paused",
        "time_elapsed": 0,
        "num_task_completed": 0,
        "num_errors": 0,
    }

    again = session.post(f"{populated.url}/launch/1001/pause")
    assert (again.status_code, again.json()) == (200, {"status": True})
    assert status_of(populated, 1001) == "paused"

    response = session.post(f"{populated.url}/launch/1001/resume")
    assert (response.status_code, response.json()) == (200, {"status": True})
    assert status_of(populated, 1001) == "running"

    again = session.post(f"{populated.url}/launch/1001/resume")
    assert (again.status_code, again.json()) == (200, {"status": True})
    assert status_of(populated, 1001) == "running"


@pytest.mark.parametrize("action", ["pause", "resume"])
def test_completed_launch_refuses(
    populated: WrkSimulator, session_for: SessionFor, action: str
) -> None:
    response = session_for(populated).post(f"{populated.url}/launch/1003/{action}")

    assert (response.status_code, response.json()) == (200, {"status": False})
    assert status_of(populated, 1003) == "completed"


@pytest.mark.parametrize("launch_id", ["12", "abc"])
def test_action_on_unknown_launch_is_404(
    seed_sim: WrkSimulator, session_for: SessionFor, launch_id: str
) -> None:
    response = session_for(seed_sim).post(f"{seed_sim.url}/launch/{launch_id}/pause")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": 404, "message": f"Launch {launch_id} not found"}}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/launch/1001"),
        ("GET", "/launches"),
        ("DELETE", "/launch/1001"),
        ("POST", "/launch/1001/stop"),
        ("GET", "/wrkflow/x/launch"),
    ],
)
def test_unknown_routes_are_404(
    populated: WrkSimulator, session_for: SessionFor, method: str, path: str
) -> None:
    response = session_for(populated).request(method, f"{populated.url}{path}")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == 404


def test_path_outside_the_base_is_404(seed_sim: WrkSimulator, session_for: SessionFor) -> None:
    root = seed_sim.url.removesuffix("/api/v1")

    response = session_for(seed_sim).get(f"{root}/launch")

    assert response.status_code == 404


def test_start_launch(populated: WrkSimulator, session_for: SessionFor) -> None:
    session = session_for(populated)

    response = session.post(f"{populated.url}/wrkflow/{WRKFLOW_B}/launch", json={"name": "new"})

    assert (response.status_code, response.json()) == (201, {"id": "1005"})
    created = populated.launch(1005)
    assert (created["name"], created["wrkflow_uuid"]) == ("new", WRKFLOW_B)
    assert status_of(populated, 1005) == "running"
    unnamed = session.post(f"{populated.url}/wrkflow/{WRKFLOW_B}/launch")
    assert unnamed.json() == {"id": "1006"}


@pytest.mark.parametrize(
    ("wrkflow", "body", "status"),
    [
        ("unknown-uuid", b"{}", 404),
        (WRKFLOW_A, b"{not json", 400),
        (WRKFLOW_A, b"[1, 2]", 400),
        (WRKFLOW_A, b'{"name": 5}', 400),
    ],
)
def test_start_launch_rejects(
    populated: WrkSimulator, session_for: SessionFor, wrkflow: str, body: bytes, status: int
) -> None:
    url = f"{populated.url}/wrkflow/{wrkflow}/launch"

    response = session_for(populated).post(url, data=body)

    assert response.status_code == status
    assert response.json()["error"]["code"] == status
    assert len(populated.launches()) == 4


def test_keep_alive_reuses_one_connection(seed_sim: WrkSimulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", seed_sim.port, timeout=5)
    sockets = []
    for _ in range(3):
        connection.request("GET", "/api/v1/launch", headers={"Authorization": "Api-Key wrong"})
        response = connection.getresponse()
        response.read()
        assert response.status == 401
        assert response.getheader("Content-Length") is not None
        sockets.append(connection.sock)
    connection.close()

    assert sockets[0] is not None
    assert sockets == [sockets[0]] * 3


def test_connection_close_is_honoured(seed_sim: WrkSimulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", seed_sim.port, timeout=5)
    connection.request("GET", "/api/v1/launch", headers={"Connection": "close"})
    response = connection.getresponse()
    response.read()

    assert response.getheader("Connection") == "close"
    assert connection.sock is None


def test_head_sends_no_body(seed_sim: WrkSimulator) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", seed_sim.port, timeout=5)
    auth = {"Authorization": f"Api-Key {seed_sim.api_key}"}
    connection.request("HEAD", "/api/v1/launch", headers=auth)
    head = connection.getresponse()
    head_body = head.read()
    connection.request("GET", "/api/v1/launch", headers=auth)
    get = connection.getresponse()
    get_body = get.read()
    connection.close()

    assert (head.status, head_body) == (404, b"")
    assert int(head.getheader("Content-Length") or 0) > 0
    assert (get.status, get_body) == (200, b'{"totalCount":0,"launches":[]}')


def test_chunked_request_body(populated: WrkSimulator, session_for: SessionFor) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"name": '
        yield b'"chunky"}'

    url = f"{populated.url}/wrkflow/{WRKFLOW_A}/launch"

    response = session_for(populated).post(url, data=chunks())

    assert response.status_code == 201
    assert populated.requests[-1].headers["transfer-encoding"] == "chunked"
    assert populated.launch(int(response.json()["id"]))["name"] == "chunky"


def test_malformed_request_line_is_400(seed_sim: WrkSimulator) -> None:
    with socket.create_connection(("127.0.0.1", seed_sim.port), timeout=5) as raw:
        raw.sendall(b"NONSENSE\r\n\r\n")
        answer = raw.recv(4096)

    assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert b"Connection: close" in answer
