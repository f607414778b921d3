"""How ``WrkHook`` turns an Airflow connection into client settings; nothing is sent here."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from wrk_provider.client.errors import WrkInvalidInputError
from wrk_provider.hooks.wrk import WrkHook

KEY = "sk-test-key-42"
URL = "https://account.wrk.com/api/v1"


@pytest.fixture
def connection(monkeypatch: pytest.MonkeyPatch):
    """Set ``AIRFLOW_CONN_<ID>`` in the JSON form."""

    def set_connection(conn_id: str = "wrk_default", **fields: Any) -> None:
        conn = {"conn_type": "wrk", "host": URL, "password": KEY, **fields}
        monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps(conn))

    return set_connection


def test_constructing_reads_nothing() -> None:
    hook = WrkHook("no_such_connection", timeout="not even a number")  # type: ignore[arg-type]

    assert hook.wrk_conn_id == "no_such_connection"
    assert repr(hook) == "WrkHook(wrk_conn_id='no_such_connection')"
    with pytest.raises(WrkInvalidInputError, match="'no_such_connection' is not defined"):
        hook.get_conn()


def test_a_missing_connection_says_how_to_define_it() -> None:
    hook = WrkHook("no_such_connection")

    for attempt in (hook.get_conn, hook.get_ui_url, lambda: asyncio.run(hook.get_async_conn())):
        with pytest.raises(WrkInvalidInputError) as raised:
            attempt()
        assert str(raised.value) == (
            "Connection 'no_such_connection' is not defined: create a connection of type wrk "
            "with that id, or set AIRFLOW_CONN_NO_SUCH_CONNECTION."
        )
    assert hook.test_connection() == (False, str(raised.value))


def test_default_connection_id() -> None:
    assert WrkHook().wrk_conn_id == "wrk_default"


def test_settings_from_extras(connection) -> None:
    connection(
        extra={
            "timeout": 12,
            "connect_timeout": "3",
            "max_retries": 2,
            "retry_wait": 0.5,
            "retry_max_wait": 4,
            "auth_scheme": "Bearer",
            "page_size": "25",
        }
    )

    config = WrkHook().get_conn().config

    assert config.base_url == URL
    assert (config.timeout, config.connect_timeout) == (12.0, 3.0)
    assert (config.retry.max_attempts, config.retry.initial_wait, config.retry.max_wait) == (
        3,
        0.5,
        4.0,
    )
    assert config.auth_scheme == "Bearer"
    assert config.page_size == 25
    assert config.headers()["Authorization"] == f"Bearer {KEY}"


def test_defaults_without_extras(connection) -> None:
    connection()

    config = WrkHook().get_conn().config

    assert (config.timeout, config.retry.max_attempts, config.auth_scheme) == (30.0, 5, "Api-Key")
    assert config.page_size is None


def test_default_base_url_when_host_is_empty(connection) -> None:
    connection(host="")

    assert WrkHook().get_conn().config.base_url == URL


def test_host_and_port(connection) -> None:
    connection(host="wrk.example", port=8443)

    assert WrkHook().get_conn().config.base_url == "https://wrk.example:8443/api/v1"


def test_hook_arguments_beat_extras(connection) -> None:
    connection(extra={"timeout": 30, "max_retries": 5, "retry_wait": 2, "retry_max_wait": 9})

    hook = WrkHook(timeout=0.3, max_retries=0, retry_wait=0.01, retry_max_wait=0.02)
    config = hook.get_conn().config

    assert config.timeout == 0.3
    assert (config.retry.max_attempts, config.retry.initial_wait, config.retry.max_wait) == (
        1,
        0.01,
        0.02,
    )


def test_client_is_built_once(connection) -> None:
    connection()
    hook = WrkHook()

    client = hook.get_conn()

    assert hook.get_conn() is client
    assert hook.get_conn()._session is client._session
    hook.close()
    assert hook.get_conn() is not client


@pytest.mark.parametrize("value", [True, "true", "True", "1", "yes", "on"])
def test_allow_insecure_http_extra(connection, value: object) -> None:
    connection(host="http://wrk.example/api/v1", extra={"allow_insecure_http": value})

    assert WrkHook().get_conn().config.base_url == "http://wrk.example/api/v1"


@pytest.mark.parametrize("value", [False, "no", ""])
def test_plain_http_refused_unless_allowed(connection, value: object) -> None:
    connection(host="http://wrk.example/api/v1", extra={"allow_insecure_http": value})

    with pytest.raises(WrkInvalidInputError) as caught:
        WrkHook().get_conn()

    assert "plain http" in str(caught.value)
    assert "Connection 'wrk_default'" in str(caught.value)


def test_plain_http_to_loopback_needs_no_extra(connection) -> None:
    connection(host="http://127.0.0.1:9/api/v1")

    assert WrkHook().get_conn().config.base_url == "http://127.0.0.1:9/api/v1"


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ({"timeout": "abc"}, "timeout='abc' is not a number"),
        ({"timeout": 0}, "timeout=0"),
        ({"connect_timeout": -2}, "connect_timeout=-2"),
        ({"max_retries": "x"}, "max_retries='x' is not a number"),
        ({"max_retries": 99}, "max_retries=99 must be a whole number from 0 to 20"),
        ({"retry_wait": -1}, "retry_wait=-1"),
        ({"retry_max_wait": "inf"}, "retry_max_wait='inf'"),
        ({"auth_scheme": "Api Key"}, "auth_scheme='Api Key' is not a single word"),
        ({"allow_insecure_http": "maybe"}, "allow_insecure_http='maybe' must be true or false"),
        ({"page_size": "ten"}, "page_size='ten' must be a whole number"),
        ({"page_size": 0}, "page_size=0 must be a whole number from 1 to 1000"),
        ({"page_size": 5000}, "page_size=5000"),
    ],
)
def test_bad_extra_names_itself_and_the_connection(connection, extra: dict, words: str) -> None:
    connection("wrk_prod", extra=extra)

    with pytest.raises(WrkInvalidInputError) as caught:
        WrkHook("wrk_prod").get_conn()

    text = str(caught.value)
    assert text.startswith("Connection 'wrk_prod': ")
    assert words in text
    assert "\n" not in text
    assert KEY not in text


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        ("not json", "has extras that are not JSON"),
        ("[1, 2]", "has extras that are not a JSON object"),
    ],
)
def test_extras_that_are_not_an_object(connection, extra: str, words: str) -> None:
    connection("wrk_prod", extra=extra)

    with pytest.raises(WrkInvalidInputError, match=f"^Connection 'wrk_prod' {words}"):
        WrkHook("wrk_prod").get_conn()


def test_missing_key(connection) -> None:
    connection("wrk_prod", password="")

    with pytest.raises(WrkInvalidInputError, match="^Connection 'wrk_prod' has no API key"):
        WrkHook("wrk_prod").get_conn()


def test_bad_key_names_the_connection(connection) -> None:
    connection("wrk_prod", password="two words")

    with pytest.raises(WrkInvalidInputError) as caught:
        WrkHook("wrk_prod").get_conn()

    assert str(caught.value).startswith("Connection 'wrk_prod': ")
    assert "two words" not in str(caught.value)


def test_bad_base_url_names_the_connection(connection) -> None:
    connection("wrk_prod", host="ftp://wrk.example")

    with pytest.raises(WrkInvalidInputError, match="^Connection 'wrk_prod': Base URL"):
        WrkHook("wrk_prod").get_conn()


def test_ui_url(connection) -> None:
    connection()
    connection("wrk_eu", extra={"ui_url": "https://eu.app.wrk.com/"})

    assert WrkHook().get_ui_url() == "https://app.wrk.com"
    assert WrkHook("wrk_eu").get_ui_url() == "https://eu.app.wrk.com"


def test_key_not_in_reprs(connection) -> None:
    connection()
    hook = WrkHook()
    client = hook.get_conn()

    for text in (repr(hook), repr(client), repr(client.config), str(client.config)):
        assert KEY not in text
