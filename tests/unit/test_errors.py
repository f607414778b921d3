"""The error tree: kinds, what each carries, and that they survive pickling."""

from __future__ import annotations

import pickle

import pytest

from wrk_provider import exceptions
from wrk_provider.client import errors
from wrk_provider.client.errors import (
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkRefusedError,
    WrkServerError,
    WrkUnreachableError,
)

KINDS = [
    WrkAPIError,
    WrkAuthenticationError,
    WrkBadResponseError,
    WrkInvalidInputError,
    WrkNotFoundError,
    WrkRateLimitedError,
    WrkRefusedError,
    WrkServerError,
    WrkUnreachableError,
]


def test_tree() -> None:
    for kind in KINDS:
        assert issubclass(kind, WrkError)
    for kind in (WrkAuthenticationError, WrkNotFoundError, WrkRateLimitedError, WrkServerError):
        assert issubclass(kind, WrkAPIError)
    for kind in (WrkBadResponseError, WrkRefusedError, WrkUnreachableError, WrkInvalidInputError):
        assert not issubclass(kind, WrkAPIError)
    assert issubclass(WrkInvalidInputError, ValueError)


def test_public_face() -> None:
    assert sorted(exceptions.__all__) == sorted(errors.__all__)
    for name in exceptions.__all__:
        assert getattr(exceptions, name) is getattr(errors, name)


@pytest.mark.parametrize("kind", KINDS)
def test_fields_and_pickling(kind: type[WrkError]) -> None:
    error = kind(
        "POST /launch/7/pause for launch 7 failed with HTTP 503: try again later.",
        endpoint="POST /launch/7/pause",
        launch_id="7",
        status_code=503,
        server_message="busy",
        attempts=3,
    )

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is kind
    assert str(copy) == str(error) == error.message
    assert copy.args == error.args
    assert (copy.endpoint, copy.launch_id, copy.status_code) == ("POST /launch/7/pause", "7", 503)
    assert (copy.server_message, copy.attempts) == ("busy", 3)


def test_extra_attributes_survive_pickling() -> None:
    error = WrkRateLimitedError("slow down", status_code=429)
    error.retry_after = 2.0  # type: ignore[attr-defined]

    copy = pickle.loads(pickle.dumps(error))

    assert copy.retry_after == 2.0  # type: ignore[attr-defined]


def test_defaults() -> None:
    error = WrkError("plain")

    assert (error.endpoint, error.launch_id, error.status_code) == (None, None, None)
    assert (error.server_message, error.attempts) == (None, 1)
    assert str(error) == "plain"
