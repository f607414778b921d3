"""Requests built and answers read, from bytes, with no network."""

from __future__ import annotations

import json
import math

import pendulum
import pytest

from wrk_provider.client.config import (
    DEFAULT_BASE_URL,
    ClientConfig,
    Secret,
    launch_id_text,
    normalise_base_url,
)
from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkRefusedError,
    WrkServerError,
)
from wrk_provider.client.models import LaunchStatus
from wrk_provider.client.paging import LaunchLookup, Pager
from wrk_provider.client.protocol import (
    ApiRequest,
    ApiResponse,
    LaunchFilters,
    action_request,
    launch_request,
    raise_for_status,
    read_action,
    read_launch,
    read_page,
    server_message,
)
from wrk_provider.client.retry import RetryPolicy
from wrk_provider.client.sync import WrkClient

KEY = "sk-live-0123456789abcdef"
SECRET = Secret(KEY)
LIST = ApiRequest("GET", "/launch")
GET_7 = launch_request(7)
PAUSE_7 = action_request(7, "pause")


def answer(status: int, body: object = b"", **headers: str) -> ApiResponse:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return ApiResponse(status, headers, raw)


def seed_item(launch_id: int, status: str = "running", start: int = 1_728_673_181) -> dict:
    return {"launch_id": launch_id, "start_date": start, "state": {"status": status}}


def openapi_item(launch_id: int, status: str = "RUNNING") -> dict:
    return {"id": str(launch_id), "start_date": "2024-10-11T18:59:41Z", "state": {"status": status}}


# Launch ids.


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (1234, "1234"),
        ("1234", "1234"),
        ("a-B_c.1:2", "a-B_c.1:2"),
        ("x" * 128, "x" * 128),
    ],
)
def test_launch_id_text(value: object, text: str) -> None:
    assert launch_id_text(value) == text


@pytest.mark.parametrize(
    "value",
    [
        "1/../../x",
        "a b",
        "1?x=2",
        "1#x",
        "",
        "..",
        ".hidden",
        "-1",
        "%2F",
        "1\n",
        "é",
        "x" * 129,
        None,
        -1,
        1.5,
        True,
        {"id": 1},
        b"12",
    ],
    ids=repr,
)
def test_launch_id_text_refuses(value: object) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        launch_id_text(value)

    text = str(caught.value)
    assert text.startswith("launch_id=")
    assert "\n" not in text
    assert len(text) < 200


def test_launch_paths() -> None:
    assert (GET_7.method, GET_7.path, GET_7.launch_id) == ("GET", "/launch/7", "7")
    assert (PAUSE_7.method, PAUSE_7.path) == ("POST", "/launch/7/pause")
    assert action_request("ab:1", "resume").path == "/launch/ab%3A1/resume"
    assert PAUSE_7.describe() == "POST /launch/7/pause for launch 7"
    assert LIST.describe() == "GET /launch"


# Base URLs.


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, DEFAULT_BASE_URL),
        ("", DEFAULT_BASE_URL),
        ("   ", DEFAULT_BASE_URL),
        ("https://account.wrk.com/api/v1/", "https://account.wrk.com/api/v1"),
        ("  https://account.wrk.com/api/v1  ", "https://account.wrk.com/api/v1"),
        ("HTTPS://Account.WRK.com/api/v1", "https://account.wrk.com/api/v1"),
        ("account.wrk.com", "https://account.wrk.com/api/v1"),
        ("account.wrk.com/api/v2/", "https://account.wrk.com/api/v2"),
        ("https://wrk.example:8443", "https://wrk.example:8443/api/v1"),
        ("https://wrk.example:8443/", "https://wrk.example:8443/api/v1"),
        ("http://localhost:8080/api/v1/", "http://localhost:8080/api/v1"),
        ("http://127.0.0.1:5000/api/v1", "http://127.0.0.1:5000/api/v1"),
        ("http://127.8.9.10/api", "http://127.8.9.10/api"),
        ("http://[::1]:5000/api/v1", "http://[::1]:5000/api/v1"),
    ],
)
def test_normalise_base_url(given: str | None, expected: str) -> None:
    assert normalise_base_url(given) == expected


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com",
        "http://example.com/api/v1",
        "http://10.0.0.1/api/v1",
        "http://127.0.0.1.example.com/api",
        "http://localhost.example.com/api",
    ],
)
def test_plain_http_to_a_remote_host_is_refused(url: str) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        normalise_base_url(url)

    assert "plain http" in str(caught.value)
    assert "allow_insecure_http" in str(caught.value)
    allowed = normalise_base_url(url, allow_insecure_http=True)
    assert allowed.startswith(url.rstrip("/"))
    assert allowed.startswith("http://")


def test_client_refuses_plain_http_before_any_request() -> None:
    with pytest.raises(WrkInvalidInputError, match="'http://example.com' is plain http"):
        WrkClient(KEY, base_url="http://example.com")


def test_client_allows_plain_http_when_asked() -> None:
    client = WrkClient(KEY, base_url="http://example.com/api/v1", allow_insecure_http=True)

    assert client.config.base_url == "http://example.com/api/v1"
    client.close()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://account.wrk.com/api", "not an http(s) address"),
        ("https://", "not an http(s) address"),
        ("https://account.wrk.com:99999/api", "malformed"),
        ("https://account.wrk.com/api?key=1", "must not hold a user, a query or a fragment"),
        ("https://account.wrk.com/api#top", "must not hold a user, a query or a fragment"),
    ],
)
def test_bad_base_urls(url: str, words: str) -> None:
    with pytest.raises(WrkInvalidInputError, match=words.replace("(", r"\(").replace(")", r"\)")):
        normalise_base_url(url)


def test_credentials_in_the_url_are_refused_without_echoing_them() -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        normalise_base_url(f"https://user:{KEY}@account.wrk.com/api/v1")

    assert KEY not in str(caught.value)
    assert "'https://account.wrk.com/api/v1'" in str(caught.value)


# Client settings.


def test_config_defaults_and_headers() -> None:
    config = ClientConfig.create(KEY)

    assert config.base_url == DEFAULT_BASE_URL
    assert (config.timeout, config.connect_timeout) == (30.0, 10.0)
    assert config.retry == RetryPolicy()
    assert config.headers() == {"Authorization": f"Api-Key {KEY}", "Accept": "application/json"}
    assert config.url("/launch") == DEFAULT_BASE_URL + "/launch"
    assert KEY not in repr(config)
    assert KEY not in str(config)


def test_config_auth_scheme() -> None:
    assert ClientConfig.create(KEY, auth_scheme="Bearer").headers()["Authorization"] == (
        f"Bearer {KEY}"
    )


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (None, "The API key is empty"),
        ("", "The API key is empty"),
        ("   ", "The API key is empty"),
        ("abc def", "spaces or control characters"),
        ("abc\n", "spaces or control characters"),
        ("abc\x00", "spaces or control characters"),
    ],
    ids=repr,
)
def test_config_refuses_bad_keys(key: str | None, words: str) -> None:
    with pytest.raises(WrkInvalidInputError, match=words) as caught:
        ClientConfig.create(key)
    if key and key.strip():
        assert key.strip() not in str(caught.value)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        ({"auth_scheme": "Api Key"}, "auth_scheme='Api Key' is not a single word"),
        ({"auth_scheme": ""}, "auth_scheme='' is not a single word"),
        ({"timeout": "abc"}, "timeout='abc' is not a number"),
        ({"timeout": 0}, "timeout=0 must be a number above zero, in seconds"),
        ({"timeout": -1}, "timeout=-1"),
        ({"timeout": math.inf}, "timeout=inf"),
        ({"timeout": True}, "timeout=True is not a number"),
        ({"connect_timeout": "0"}, "connect_timeout=0.0"),
        ({"page_size": 0}, "page_size=0 must be a whole number from 1 to 1000"),
        ({"page_size": 1001}, "page_size=1001"),
        ({"page_size": 2.0}, "page_size=2.0"),
        ({"page_size": True}, "page_size=True"),
    ],
)
def test_config_refuses_bad_settings(options: dict, words: str) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        ClientConfig.create(KEY, **options)

    assert words in str(caught.value)


def test_config_reads_numbers_given_as_text() -> None:
    config = ClientConfig.create(KEY, timeout="2.5", connect_timeout=1, page_size=1000)

    assert (config.timeout, config.connect_timeout, config.page_size) == (2.5, 1.0, 1000)


def test_secret() -> None:
    assert SECRET.reveal() == KEY
    assert repr(SECRET) == str(SECRET) == "Secret('***')"
    assert SECRET.scrub(f"a {KEY} b {KEY}") == "a *** b ***"
    assert Secret("").scrub("text") == "text"


# Filters.


def test_filters_params() -> None:
    filters = LaunchFilters.create(
        launch_id=12,
        status_code="paused",
        wrkflow_uuid=" d3cb ",
        lower_start_date=1_728_673_181.7,
        upper_start_date="2024-10-11T19:59:41.2Z",
    )

    assert filters.params() == {
        "launch_id": "12",
        "status_code": "2",
        "wrkflow_uuid": "d3cb",
        "lower_start_date": "1728673181",
        "upper_start_date": "1728676782",
    }
    assert filters.status is LaunchStatus.PAUSED
    assert LaunchFilters.create().params() == {}


@pytest.mark.parametrize(
    ("filters", "words"),
    [
        ({"status": 1}, "Unknown launch filter status: use launch_id, status_code"),
        ({"page": 1, "name": "x"}, "Unknown launch filter name, page"),
        ({"wrkflow_uuid": 5}, "wrkflow_uuid=5 is not a wrkflow uuid"),
        ({"wrkflow_uuid": " "}, "wrkflow_uuid=' ' is not a wrkflow uuid"),
        ({"status_code": 9}, "status_code=9 is not a launch status"),
        ({"launch_id": "1/2"}, "launch_id='1/2' is not a launch id"),
        ({"lower_start_date": "soon"}, "lower_start_date='soon' is not a date"),
        ({"upper_start_date": True}, "upper_start_date=True is not a date"),
        ({"lower_start_date": 20, "upper_start_date": 10}, "is after upper_start_date"),
    ],
)
def test_filters_refused(filters: dict, words: str) -> None:
    with pytest.raises(WrkInvalidInputError) as caught:
        LaunchFilters.create(**filters)

    assert words in str(caught.value)


def test_filters_can_refuse_naive_dates() -> None:
    with pytest.raises(WrkInvalidInputError, match="no time zone"):
        LaunchFilters.create(allow_naive=False, lower_start_date="2024-10-11T00:00:00")
    filters = LaunchFilters.create(allow_naive=False, lower_start_date="2024-10-11T00:00:00Z")
    assert filters.lower_start_date == pendulum.datetime(2024, 10, 11, tz="UTC")


# Error answers.


@pytest.mark.parametrize("status", [200, 201, 202, 204, 299])
def test_success_statuses_pass(status: int) -> None:
    raise_for_status(LIST, answer(status), SECRET)


@pytest.mark.parametrize(
    ("request_", "status", "kind", "words"),
    [
        (LIST, 401, WrkAuthenticationError, "GET /launch failed with HTTP 401 (nope): check"),
        (GET_7, 403, WrkAuthenticationError, "for launch 7 failed with HTTP 403 (nope)"),
        (GET_7, 404, WrkNotFoundError, "HTTP 404 (nope): check the launch id."),
        (LIST, 404, WrkNotFoundError, "HTTP 404 (nope): check the base URL."),
        (LIST, 400, WrkAPIError, "HTTP 400 (nope): the API refused the request; check"),
        (PAUSE_7, 409, WrkAPIError, "HTTP 409 (nope): the launch's current state does not allow"),
        (LIST, 422, WrkAPIError, "HTTP 422 (nope): the API refused the request's values; check"),
        (LIST, 402, WrkAPIError, "HTTP 402 (nope)"),
        (LIST, 429, WrkRateLimitedError, "HTTP 429 (nope): the API is rate limiting"),
        (LIST, 500, WrkServerError, "HTTP 500 (nope): the Wrk API is failing"),
        (PAUSE_7, 503, WrkServerError, "POST /launch/7/pause for launch 7 failed with HTTP 503"),
    ],
)
def test_error_statuses(request_: ApiRequest, status: int, kind: type, words: str) -> None:
    with pytest.raises(WrkAPIError) as caught:
        raise_for_status(request_, answer(status, {"error": {"message": "nope"}}), SECRET)

    error = caught.value
    assert type(error) is kind
    assert words in str(error)
    assert (error.status_code, error.endpoint, error.launch_id) == (
        status,
        request_.endpoint,
        request_.launch_id,
    )
    assert error.server_message == "nope"


def test_retry_after_is_kept_on_retryable_errors() -> None:
    for status in (429, 503):
        with pytest.raises(WrkAPIError) as caught:
            raise_for_status(LIST, answer(status, b"", **{"retry-after": "7"}), SECRET)
        assert caught.value.retry_after == 7.0  # type: ignore[attr-defined]


def test_redirect_is_an_error() -> None:
    response = answer(302, b"", Location=f"https://elsewhere.test/x?k={KEY}")

    with pytest.raises(WrkAPIError) as caught:
        raise_for_status(LIST, response, SECRET)

    text = str(caught.value)
    assert "HTTP 302" in text
    assert "redirected to https://elsewhere.test/x?k=***" in text
    assert "not followed" in text
    assert KEY not in text


@pytest.mark.parametrize(
    ("body", "said"),
    [
        ({"error": {"code": 404, "message": "Launch 7 not found"}}, "Launch 7 not found"),
        ({"error": {"name": "NotFound", "message": "gone", "metadata": {}}}, "gone"),
        ({"error": {"name": "NotFound", "metadata": {}}}, "NotFound"),
        ({"error": {"code": 404}}, "404"),
        ({"error": "plain words"}, "plain words"),
        ({"message": "top level"}, "top level"),
        (b"<html><body>Bad gateway</body></html>", "an HTML page"),
        (b"upstream\n  timed\tout", "upstream timed out"),
        ({"error": {"message": "line one\nline two"}}, "line one line two"),
        ({"error": {"message": f"key {KEY} invalid"}}, "key *** invalid"),
        (b"", ""),
        ([1, 2], "[1, 2]"),
    ],
)
def test_server_message(body: object, said: str) -> None:
    assert server_message(answer(500, body), SECRET) == said


def test_server_message_is_short() -> None:
    said = server_message(answer(500, {"error": {"message": "x" * 500}}), SECRET)

    assert len(said) == 200
    assert said.endswith("...")


def test_error_messages_are_one_line() -> None:
    body = {"error": {"message": "a\nb\r\nc"}}
    with pytest.raises(WrkAPIError) as caught:
        raise_for_status(PAUSE_7, answer(503, body), SECRET)

    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)


def test_header_lookup_ignores_case() -> None:
    response = answer(200, b"", **{"Retry-After": "3"})

    assert response.header("retry-after") == "3"
    assert response.header("RETRY-AFTER") == "3"
    assert response.header("Location") is None


# Reading lists, launches and actions.


def test_read_seed_page() -> None:
    page = read_page(LIST, answer(200, {"totalCount": 2, "launches": [seed_item(1), seed_item(2)]}))

    assert [launch.launch_id for launch in page] == [1, 2]
    assert page.total_count == 2
    assert not page.is_paged


def test_read_openapi_page() -> None:
    body = {"launches": [openapi_item(1)], "total_count": 51, "page": 1, "page_size": 50}

    page = read_page(LIST, answer(200, body))

    assert [launch.launch_id for launch in page] == ["1"]
    assert (page.total_count, page.page, page.page_size) == (51, 1, 50)
    assert page.is_paged


def test_read_page_empty_list() -> None:
    page = read_page(LIST, answer(200, {"totalCount": 0, "launches": []}))

    assert page.launches == [] and page.total_count == 0


@pytest.mark.parametrize(
    ("body", "words"),
    [
        (b"", "GET /launch answered HTTP 200 with an empty body, expected JSON; check"),
        (b"  \n", "with an empty body"),
        (b"<html>hi</html>", "with a body that is not JSON"),
        (b'{"launches": [', "with a body that is not JSON"),
        (b"\xff\xfe\x00", "with a body that is not JSON"),
        ({"totalCount": 1}, "GET /launch answered without a 'launches' list"),
        ({"launches": None}, "without a 'launches' list"),
        ("launches", "without a 'launches' list"),
        ({"launches": [], "total_count": "1"}, "'total_count'='1', expected a whole number."),
        ({"launches": [], "totalCount": 1.5}, "'total_count'=1.5"),
        ({"launches": [], "page": True}, "'page'=True"),
        ({"launches": [], "page_size": "50"}, "'page_size'='50'"),
        ({"launches": [{"id": "3", "start_date": 1}]}, "GET /launch: The API sent launch 3"),
        ({"launches": [7]}, "GET /launch: The API sent launch as int"),
    ],
)
def test_read_page_refuses(body: object, words: str) -> None:
    with pytest.raises(WrkBadResponseError) as caught:
        read_page(LIST, answer(200, body, **{"Content-Type": "text/html"}))

    assert words in str(caught.value)
    assert "\n" not in str(caught.value)


def test_read_page_refuses_non_finite_numbers() -> None:
    body = b'{"totalCount": 1, "launches": [{"launch_id": 1, "start_date": 1, '
    body += b'"state": {"status": "running", "num_errors": NaN}}]}'

    with pytest.raises(WrkBadResponseError, match="num_errors"):
        read_page(LIST, answer(200, body))


def test_read_page_names_the_content_type() -> None:
    with pytest.raises(WrkBadResponseError, match=r"not JSON \(text/html; charset=utf-8\)"):
        read_page(LIST, answer(200, b"<html>", **{"Content-Type": "text/html; charset=utf-8"}))


def test_zero_page_size_means_not_paged() -> None:
    page = read_page(LIST, answer(200, {"launches": [], "page": 0, "page_size": 0}))

    assert page.page_size is None and not page.is_paged


def test_read_launch_in_both_shapes() -> None:
    wrapped = read_launch(GET_7, answer(200, {"launch": openapi_item(7, "COMPLETED")}))
    bare = read_launch(GET_7, answer(200, seed_item(7, "completed")))

    assert (wrapped.launch_id, wrapped.status) == ("7", LaunchStatus.COMPLETED)
    assert (bare.launch_id, bare.status) == (7, LaunchStatus.COMPLETED)


def test_read_launch_bad_answer_names_the_launch() -> None:
    with pytest.raises(WrkBadResponseError) as caught:
        read_launch(GET_7, answer(200, {"launch": {"id": "7", "start_date": 1}}))

    assert str(caught.value).startswith("GET /launch/7 for launch 7: The API sent launch 7")
    assert caught.value.launch_id == "7"


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, {"status": True}),
        (202, b""),
        (204, b""),
        (202, {"accepted": 1}),
        (202, {"status": True}),
        (202, b"Accepted"),
    ],
)
def test_read_action_accepts(status: int, body: object) -> None:
    assert read_action(PAUSE_7, answer(status, body), "pause") is True


def test_read_action_refusal() -> None:
    with pytest.raises(WrkRefusedError) as caught:
        read_action(PAUSE_7, answer(200, {"status": False}), "pause")

    text = str(caught.value)
    assert text.startswith("POST /launch/7/pause for launch 7: the API refused to pause launch 7")
    assert (caught.value.launch_id, caught.value.status_code) == ("7", 200)


def test_read_action_refusal_in_an_accepted_answer() -> None:
    with pytest.raises(WrkRefusedError):
        read_action(PAUSE_7, answer(202, {"status": False}), "pause")


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        ({"status": "true"}, WrkBadResponseError),
        ({"status": None}, WrkBadResponseError),
        ([True], WrkBadResponseError),
        (b"<html>", WrkBadResponseError),
        (b"", WrkBadResponseError),
        ({}, WrkBadResponseError),
        ({"error": {"message": "no"}}, WrkBadResponseError),
    ],
)
def test_read_action_refuses_odd_answers(body: object, kind: type) -> None:
    with pytest.raises(kind) as caught:
        read_action(PAUSE_7, answer(200, body), "pause")

    assert "POST /launch/7/pause for launch 7" in str(caught.value)


# Paging and look-ups.


def test_pager_requests() -> None:
    pager = Pager(LaunchFilters.create(status_code=1))
    first = pager.first_request()

    assert (first.method, first.path, dict(first.params)) == (
        "GET",
        "/launch",
        {"status_code": "1"},
    )
    assert dict(Pager(LaunchFilters(), page_size=20).first_request().params) == {
        "page": "0",
        "page_size": "20",
    }


def test_pager_follows_paged_answers_and_filters_them() -> None:
    pager = Pager(LaunchFilters.create(status_code="running"))
    first = pager.first_request()
    body = {
        "launches": [openapi_item(1), openapi_item(2, "PAUSED")],
        "total_count": 5,
        "page": 0,
        "page_size": 2,
    }

    launches, following = pager.read(first, answer(200, body))

    assert [launch.launch_id for launch in launches] == ["1"]
    assert following is not None
    assert dict(following.params) == {"status_code": "1", "page": "1", "page_size": "2"}

    body.update(page=1)
    _, third = pager.read(following, answer(200, body))
    assert third is not None and third.params["page"] == "2"

    body.update(page=2, launches=[openapi_item(5)])
    last, done = pager.read(third, answer(200, body))
    assert [launch.launch_id for launch in last] == ["5"]
    assert done is None
    assert pager.pages_read == 3


def test_pager_stops_on_unpaged_or_empty_answers() -> None:
    pager = Pager(LaunchFilters())
    request = pager.first_request()

    assert (
        pager.read(request, answer(200, {"totalCount": 99, "launches": [seed_item(1)]}))[1] is None
    )
    empty = {"launches": [], "total_count": 99, "page": 0, "page_size": 10}
    assert pager.read(request, answer(200, empty))[1] is None


def test_pager_refuses_the_wrong_page() -> None:
    pager = Pager(LaunchFilters(), page_size=10)
    body = {"launches": [openapi_item(1)], "total_count": 30, "page": 2, "page_size": 10}

    with pytest.raises(WrkBadResponseError, match="asked for page 0 and was answered page 2"):
        pager.read(pager.first_request(), answer(200, body))


def test_lookup_on_an_unpaged_api() -> None:
    lookup = LaunchLookup(7, paged_api=None)
    request = lookup.first_request()

    assert (request.path, dict(request.params)) == ("/launch", {"launch_id": "7"})
    body = {"totalCount": 2, "launches": [seed_item(6), seed_item(7)]}
    assert lookup.read(request, answer(200, body)) is None
    assert lookup.launch is not None and lookup.launch.launch_id == 7
    assert lookup.paged_api is False


def test_lookup_not_found_on_an_unpaged_api() -> None:
    lookup = LaunchLookup("7", paged_api=False)
    request = lookup.first_request()

    with pytest.raises(WrkNotFoundError) as caught:
        lookup.read(request, answer(200, {"totalCount": 0, "launches": []}))

    assert str(caught.value).startswith("Launch 7 was not found")
    assert (caught.value.launch_id, caught.value.status_code) == ("7", 404)


def test_lookup_on_a_paged_api() -> None:
    lookup = LaunchLookup(7, paged_api=None)
    body = {"launches": [openapi_item(1)], "total_count": 100, "page": 0, "page_size": 50}

    following = lookup.read(lookup.first_request(), answer(200, body))

    assert following is not None and following.path == "/launch/7"
    assert lookup.read(following, answer(200, {"launch": openapi_item(7)})) is None
    assert lookup.launch is not None and lookup.launch.launch_id == "7"
    assert lookup.paged_api is True
    assert LaunchLookup(8, paged_api=True).first_request().path == "/launch/8"


def test_lookup_refuses_a_bad_id() -> None:
    with pytest.raises(WrkInvalidInputError):
        LaunchLookup("../7", paged_api=None)
